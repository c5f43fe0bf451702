"""Forms of the request page: they check what an agent typed; tickets.workflow decides."""

from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from mptt.forms import TreeNodeChoiceField

from tickets import sms
from tickets.access import queues_for
from tickets.models import Category, CustomField, Level, Priority, Status, Ticket
from tickets.replies import fill, placeholders

User = get_user_model()


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's "Uploading multiple files" recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [cleaned for cleaned in (clean_one(f, initial) for f in files) if cleaned]


class TimeUnitsField(forms.IntegerField):
    """Time spent; left empty it is none."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, required=False, label="Time units", **kwargs)

    def clean(self, value):
        return super().clean(value) or 0


def agents_of(queue, *, including=None):
    """The agents who work a queue, directly or through a team (plus `including`, so a
    current owner from elsewhere stays selectable)."""
    members = Q(member_queues=queue) | Q(groups__member_queues=queue)
    if including is not None:
        members |= Q(pk=including.pk)
    return (
        User.objects.filter(members, is_active=True).distinct().order_by("first_name", "username")
    )


def categories_of(queue):
    """The queue's categories and their subtrees; a queue that lists none takes them all."""
    listed = queue.categories.all()
    if not listed.exists():
        return Category.objects.all()
    return Category.objects.get_queryset_descendants(listed, include_self=True)


def address_list(value: str) -> str:
    """Comma- or semicolon-separated addresses, each checked, normalised to ", "."""
    addresses = [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as error:
            raise ValidationError(f"“{address}” is not an email address.") from error
    return ", ".join(addresses)


class RequestForm(forms.Form):
    """A form about one request, acted on by one agent."""

    def __init__(self, *args, ticket: Ticket, user, **kwargs):
        self.ticket = ticket
        self.user = user
        super().__init__(*args, **kwargs)


class PropertiesForm(RequestForm):
    seen_at = forms.CharField(widget=forms.HiddenInput, required=False)
    queue = forms.ModelChoiceField(queryset=None)
    category = TreeNodeChoiceField(queryset=Category.objects.none(), required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated; new ones are created.")
    priority = forms.ModelChoiceField(queryset=Priority.objects.all())
    impact = forms.ChoiceField(choices=Level.choices)
    urgency = forms.ChoiceField(choices=Level.choices)
    owner = AgentChoiceField(queryset=None, required=False, empty_label="Nobody")
    team = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False)
    related_address = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Related address"
    )
    address_of = forms.ChoiceField(
        required=False,
        label="…or the address of",
        help_text="An address kept for the contact or their company, instead of typing one.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ticket = self.ticket
        self.fields["queue"].queryset = queues_for(self.user)
        self.fields["category"].queryset = categories_of(ticket.queue)
        self.fields["owner"].queryset = agents_of(ticket.queue, including=ticket.owner)
        self.addresses = _addresses_of(ticket)
        self.fields["address_of"].choices = [("", "Typed above")] + [
            (key, f"{whose}: {address.splitlines()[0]}")
            for key, (whose, address) in self.addresses.items()
        ]
        if not self.addresses:
            del self.fields["address_of"]
        self.custom_fields = list(
            CustomField.objects.filter(Q(queues=ticket.queue) | Q(queues__isnull=True)).distinct()
        )
        for custom in self.custom_fields:
            self.fields[f"cf_{custom.key}"] = custom_form_field(custom)
        if not self.is_bound:
            self.initial.update(self._current())

    def _current(self) -> dict:
        ticket = self.ticket
        return {
            "seen_at": ticket.updated_at.isoformat(),
            "queue": ticket.queue_id,
            "category": ticket.category_id,
            "tags": ", ".join(t.name for t in ticket.tags.all()),
            "priority": ticket.priority_id,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "owner": ticket.owner_id,
            "team": ticket.team_id,
            "related_address": ticket.related_address,
            **{f"cf_{c.key}": ticket.custom_fields.get(c.key) for c in self.custom_fields},
        }

    def clean_seen_at(self) -> datetime | None:
        # A hidden field's error would show nowhere, so it goes above the form.
        try:
            seen_at = datetime.fromisoformat(self.cleaned_data["seen_at"])
        except ValueError:
            seen_at = None
        if seen_at is None or seen_at.tzinfo is None:
            self.add_error(None, "Reload the request and make your change again.")
            return None
        return seen_at

    def clean(self):
        data = super().clean()
        chosen = data.get("address_of")
        if chosen:
            data["related_address"] = self.addresses[chosen][1]
        return data

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].split(",") if n.strip()]
        too_long = [n for n in names if len(n) > 50]
        if too_long:
            raise ValidationError(f"“{too_long[0]}” is longer than 50 characters.")
        unique = {}
        for name in names:
            unique.setdefault(name.lower(), name)
        return list(unique.values())

    def custom_values(self) -> dict:
        """The request's custom fields with this form's values; an emptied field is removed."""
        values = dict(self.ticket.custom_fields)
        for custom in self.custom_fields:
            value = self.cleaned_data.get(f"cf_{custom.key}")
            if value in (None, ""):
                values.pop(custom.key, None)
            elif custom.kind == CustomField.Kind.DATE:
                values[custom.key] = value.isoformat()
            elif custom.kind == CustomField.Kind.NUMBER:
                values[custom.key] = int(value) if value == int(value) else float(value)
            else:
                values[custom.key] = value
        return values

    def changes(self) -> dict:
        """Only what the agent changed: unchanged values are not re-applied, so impact or
        urgency still re-derive the priority and a queue move may clear the category."""
        data, ticket = self.cleaned_data, self.ticket
        changes = {
            field: data[field]
            for field in ("queue", "category", "priority", "owner", "team")
            if data[field] != getattr(ticket, field)
        }
        changes |= {
            field: data[field]
            for field in ("impact", "urgency", "related_address")
            if data[field] != getattr(ticket, field)
        }
        if {t.lower() for t in data["tags"]} != {t.name.lower() for t in ticket.tags.all()}:
            changes["tags"] = data["tags"]
        custom = self.custom_values()
        if custom != ticket.custom_fields:
            changes["custom_fields"] = custom
        return changes


def _addresses_of(ticket: Ticket) -> dict[str, tuple[str, str]]:
    """The addresses kept for the request's contact and company, by the choice's key."""
    contact = ticket.contact
    found = {}
    if contact is not None and contact.address.strip():
        found["contact"] = (str(contact.name or contact.email), contact.address.strip())
    if contact is not None and contact.company and contact.company.address.strip():
        found["company"] = (contact.company.name, contact.company.address.strip())
    return found


def custom_form_field(custom: CustomField) -> forms.Field:
    """The form field of a custom field, never required (the request form, the reports)."""
    options = {"label": custom.name, "required": False}
    match custom.kind:
        case CustomField.Kind.NUMBER:
            return forms.DecimalField(**options)
        case CustomField.Kind.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
        case CustomField.Kind.CHOICE:
            return forms.ChoiceField(
                choices=[("", "—")] + [(o, o) for o in custom.options], **options
            )
    return forms.CharField(max_length=1000, **options)


def with_signature(body: str, ticket: Ticket, agent) -> str:
    """A reply's text with the queue's signature (placeholders filled in) below it."""
    signature = fill(ticket.queue.signature, placeholders(ticket, agent)).strip()
    return f"{body.rstrip()}\n\n{signature}" if signature else body


class ReplyForm(RequestForm):
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        label="Reply",
        strip=False,
        error_messages={"required": "Write the reply."},
    )
    cc = forms.CharField(required=False, label="Cc", help_text="Comma-separated addresses.")
    bcc = forms.CharField(required=False, label="Bcc")
    attachments = MultipleFileField()
    time_units = TimeUnitsField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs["placeholder"] = f"[{self.ticket.number}] " + (
            self.ticket.subject
        )

    def clean_body(self):
        body = self.cleaned_data["body"]
        # The box starts with the signature; sending only that is sending nothing.
        if body.strip() in ("", with_signature("", self.ticket, self.user).strip()):
            raise ValidationError("Write the reply.")
        return body

    def clean_cc(self):
        return address_list(self.cleaned_data["cc"])

    def clean_bcc(self):
        return address_list(self.cleaned_data["bcc"])


def sms_text_widget(rows: int = 3) -> forms.Textarea:
    """A text box with the live SMS counter under it (helpdesk.js); the form checks again."""
    return forms.Textarea(attrs={"rows": rows, "data-sms-counter": sms.max_segments()})


def sms_help() -> str:
    return (
        f"At most {sms.max_segments()} messages: 160 characters in one, 153 in each part "
        "of a longer one; a character outside the GSM alphabet (an emoji, Greek or "
        "Cyrillic letters) makes them 70 and 67."
    )


class SmsForm(RequestForm):
    body = forms.CharField(
        widget=sms_text_widget(),
        label="SMS",
        error_messages={"required": "Write the SMS."},
    )
    time_units = TimeUnitsField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = sms_help()
        contact = self.ticket.contact
        if contact is not None:
            self.fields["body"].label = f"SMS to {contact.name or contact.email} ({contact.mobile})"

    def clean_body(self) -> str:
        if reason := sms.too_long(self.cleaned_data["body"]):
            raise ValidationError(reason)
        return self.cleaned_data["body"]


class NoteForm(RequestForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Internal note")
    pinned = forms.BooleanField(required=False, label="Pin it to the top")
    time_units = TimeUnitsField()


class ApprovalForm(RequestForm):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What should the customer approve?",
        help_text="They decide on the portal or by the link we email them; the request "
        "cannot move on to its next stage until they approve.",
    )


class AskForm(RequestForm):
    colleague = AgentChoiceField(queryset=None, empty_label="Choose a colleague")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = agents_of(self.ticket.queue).exclude(pk=self.user.pk)


class ForwardForm(RequestForm):
    to = forms.EmailField(label="To (outside party)")
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The request's public messages follow your text.",
    )
    attachments = MultipleFileField()
    time_units = TimeUnitsField()


class RegressForm(RequestForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Why does it go back a stage?"
    )


class PostponeForm(RequestForm):
    until = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Postpone until",
    )
    status = forms.ModelChoiceField(
        queryset=Status.objects.filter(base=Status.Base.POSTPONED),
        required=False,
        empty_label="Postponed",
    )


class CloseForm(RequestForm):
    resolved = forms.TypedChoiceField(
        choices=[("yes", "Yes, resolved"), ("no", "No, not resolved")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label="Was it resolved?",
        error_messages={"required": "Say whether the request was resolved."},
    )
    status = forms.ModelChoiceField(
        queryset=Status.objects.filter(base=Status.Base.CLOSED),
        required=False,
        empty_label="Closed",
    )


class NumberForm(RequestForm):
    """Another request, named by its number, among those the agent may see."""

    number = forms.CharField(max_length=60, label="Request number")

    def __init__(self, *args, visible, **kwargs):
        self.visible = visible
        super().__init__(*args, **kwargs)

    def clean_number(self) -> Ticket:
        number = self.cleaned_data["number"].strip()
        other = self.visible.filter(number__iexact=number).first()
        if other is None:
            raise ValidationError(f"There is no request {number} that you can see.")
        return other


class MergeForm(NumberForm):
    number = forms.CharField(max_length=60, label="Merge into request number")


class LinkForm(NumberForm):
    number = forms.CharField(max_length=60, label="Related request number")
