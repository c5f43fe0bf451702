"""The desk's form-field tags write the Bootstrap 5 markup crispy-forms writes."""

from django import forms
from django.template import Context, Template


class Sample(forms.Form):
    name = forms.CharField(help_text="As on the badge.")
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    urgent = forms.BooleanField(required=False)
    resolved = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect)


def render(template: str, form: forms.Form) -> str:
    return Template("{% load desk %}" + template).render(Context({"form": form}))


def test_a_field_has_its_label_bootstrap_class_and_help_text():
    html = render("{% field form.name %}", Sample())
    assert '<label for="id_name" class="form-label requiredField">Name<span' in html
    assert 'class="form-control"' in html
    assert '<div id="id_name_helptext" class="form-text">As on the badge.</div>' in html


def test_a_fields_errors_follow_it_with_the_ids_crispy_gives_them():
    html = render("{% field form.name %}", Sample({}))
    assert 'class="form-control is-invalid"' in html
    assert '<p id="error_1_id_name"><strong>This field is required.</strong></p>' in html


def test_selects_checkboxes_and_radios_get_their_bootstrap_classes():
    html = render("{% field form.kind %}{% field form.urgent %}{% field form.resolved %}", Sample())
    assert '<select name="kind" class="form-select" id="id_kind">' in html
    assert '<div id="div_id_urgent" class="form-check">' in html
    assert '<legend class="form-label requiredField fs-6">Resolved<span' in html
    assert html.count('<input type="radio" class="form-check-input" name="resolved"') == 2


def test_a_whole_form_starts_with_the_errors_of_no_field():
    form = Sample({"name": "Ann", "resolved": "yes"})
    form.is_valid()
    form.add_error(None, "Reload the request.")
    html = render("{% fields form %}", form)
    assert html.index("Reload the request.") < html.index('name="name"')


SCRIPT = "<script>alert(1)</script>"


class Hostile(forms.Form):
    """What a customer or an admin could put where the tags write: a value, a label (a
    custom field's name), a help text, an error, a choice."""

    name = forms.CharField(label=f"Name {SCRIPT}", help_text=f"Help {SCRIPT}")
    kind = forms.ChoiceField(choices=[("a", f"A {SCRIPT}")], label=f"Kind {SCRIPT}")
    urgent = forms.BooleanField(required=False, label=f"Urgent {SCRIPT}")

    def clean(self):
        raise forms.ValidationError(f"Refused {SCRIPT}")


def test_a_script_anywhere_in_a_form_is_written_as_text():
    form = Hostile({"name": f'"><img src=x onerror=alert(1)>{SCRIPT}', "kind": "z"})
    form.is_valid()
    html = render("{% fields form %}", form)
    assert "<script" not in html and "<img" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 7
    assert "Refused &lt;script&gt;" in html  # the error of no field, escaped too
