"""The forms of process steps, made from a step's `fields`, and the pages' small forms."""

from datetime import date
from decimal import Decimal

from django import forms

from processes.models import ProcessStep

YES_NO = [("yes", "Yes"), ("no", "No")]


def _choices(spec: dict) -> list[tuple[str, str]]:
    return [(c, c) if isinstance(c, str) else (str(c[0]), str(c[1])) for c in spec["choices"]]


def _field(spec: dict) -> forms.Field:
    kind = spec.get("type", "text")
    options = {"label": spec.get("label") or spec["name"], "required": spec.get("required", False)}
    if kind == "textarea":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **options)
    if kind == "number":
        return forms.DecimalField(**options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *_choices(spec)], **options)
    if kind == "yes_no":
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **options)
    return forms.CharField(max_length=1000, **options)


class StepForm(forms.Form):
    """A step's form: one field per entry of its `fields`, in their order."""

    def __init__(self, *args, step: ProcessStep, **kwargs):
        # Names as the step's fields (the domain's answers); ids apart from the page's others.
        kwargs.setdefault("auto_id", f"step{step.pk}_%s")
        super().__init__(*args, **kwargs)
        self.step = step
        for spec in step.fields:
            self.fields[spec["name"]] = _field(spec)

    def answers(self) -> dict:
        """The cleaned data as JSON: numbers as numbers, dates as ISO text."""
        return {name: _as_json(value) for name, value in self.cleaned_data.items()}


def _as_json(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def readable(step: ProcessStep, answers: dict) -> list[tuple[str, str]]:
    """The answers as a person reads them: (label, value), choices by their label."""
    lines = []
    for spec in step.fields:
        value = answers.get(spec["name"])
        if spec.get("type") == "choice":
            value = dict(_choices(spec)).get(value, value)
        elif spec.get("type") == "yes_no":
            value = dict(YES_NO).get(value, value)
        lines.append((spec.get("label") or spec["name"], "—" if value in (None, "") else value))
    return lines


def as_text(step: ProcessStep, answers: dict) -> str:
    """The article a submission is written as: "Step 2 — Hardware choice\\nModel: …"."""
    return "\n".join(
        [str(step), *(f"{label}: {value}" for label, value in readable(step, answers))]
    )


class StartForm(forms.Form):
    """The desk starts a process for a contact, found by their address."""

    email = forms.EmailField(label="The contact's email address")
    subject = forms.CharField(
        max_length=255, required=False, help_text="Empty: the process's name."
    )
