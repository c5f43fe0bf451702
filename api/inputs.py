"""What the API accepts, and how it is checked.

An input passes three gates, each the one home of its kind of rule: its serializer checks
the JSON's shape (types, no unknown fields; it is also what the schema shows); then the
desk's or the portal's own form checks it as it checks what a person typed (which queues,
owners and categories this agent may choose, address lists, another request's number);
then tickets.workflow decides. A refusal at any gate is a 4xx and nothing is saved.
"""

from collections.abc import Mapping

from django import forms
from rest_framework import exceptions, serializers

from tickets.forms.create import NewRequestForm
from tickets.models import Channel, Contact, Level

FILES = serializers.ListField(
    child=serializers.FileField(), required=False, help_text="multipart/form-data only"
)


class RefusesUnknownFields:
    """An input naming a field we do not know is refused: a typo must not be ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise exceptions.ValidationError(
                    {name: ["There is no such field."] for name in unknown}
                )
        return super().to_internal_value(data)


class Strict(RefusesUnknownFields, serializers.Serializer):
    pass


def checked(form: forms.Form, *, names: Mapping[str, str] | None = None) -> dict:
    """The form's cleaned data, or its errors as the API's field errors (`names` maps a
    form field to the API field it came from)."""
    if form.is_valid():
        return form.cleaned_data
    names = names or {}
    errors = {}
    for field, messages in form.errors.items():
        key = "non_field_errors" if field == "__all__" else names.get(field, field)
        errors.setdefault(key, []).extend(messages)
    raise exceptions.ValidationError(errors)


def form_data(values: Mapping, *, base: Mapping | None = None) -> dict:
    """Validated API values as a bound form expects them (over `base`, what is there)."""
    data = dict(base or {})
    for name, value in values.items():
        if value is None:
            data[name] = ""
        elif isinstance(value, list):
            data[name] = ", ".join(value)
        elif hasattr(value, "pk"):
            data[name] = value.pk
        else:
            data[name] = value
    return data


# Registering and editing requests


class RequestCreate(Strict):
    channel = serializers.ChoiceField(
        choices=[Channel.API, Channel.PHONE, Channel.EMAIL, Channel.INTERNAL],
        default=Channel.API,
        help_text="email: the request opens with `body` sent to the contact.",
    )
    queue = serializers.IntegerField()
    contact = serializers.IntegerField(required=False, allow_null=True)
    subject = serializers.CharField(max_length=255)
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    category = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.IntegerField(
        required=False, allow_null=True, help_text="Empty: from impact × urgency."
    )
    impact = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    urgency = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    owner = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), default=list)
    time_units = serializers.IntegerField(min_value=0, default=0)
    attachments = FILES


class RequestCreateForm(NewRequestForm):
    """The desk's form for a new request, with the API as a channel and the contact
    named by its id (no contact is created on the way)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(Channel.API, "API"), *self.fields["channel"].choices]

    def _chosen_contact(self, data) -> Contact | None:
        if data.get("contact") is None:
            self.add_error("contact", "Name the contact by id (GET /api/v1/contacts/?q=…).")
        return data.get("contact")


class RequestUpdate(Strict):
    subject = serializers.CharField(max_length=255, required=False)
    queue = serializers.IntegerField(required=False)
    category = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False)
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    owner = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)
    related_address = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    custom_fields = serializers.DictField(
        required=False, help_text="By key; null empties a field. Others keep their values."
    )


# The request's actions


class Reply(Strict):
    body = serializers.CharField(trim_whitespace=False)
    subject = serializers.CharField(max_length=255, required=False, default="")
    cc = serializers.CharField(required=False, default="", help_text="Comma-separated.")
    bcc = serializers.CharField(required=False, default="")
    time_units = serializers.IntegerField(min_value=0, default=0)
    attachments = FILES


class Note(Strict):
    text = serializers.CharField()
    pinned = serializers.BooleanField(default=False)
    time_units = serializers.IntegerField(min_value=0, default=0)


class MessageUpdate(Strict):
    """What of an article may change afterwards; absent, nothing changes (PATCH)."""

    time_units = serializers.IntegerField(min_value=0, required=False)


class Regress(Strict):
    reason = serializers.CharField()


class Postpone(Strict):
    until = serializers.DateTimeField()
    status = serializers.IntegerField(
        required=False, allow_null=True, help_text="A postponed status; empty: Postponed."
    )


class Close(Strict):
    resolved = serializers.BooleanField()
    status = serializers.IntegerField(
        required=False, allow_null=True, help_text="A closed status; empty: Closed."
    )


class OtherRequest(Strict):
    number = serializers.CharField(max_length=60, help_text="Another request's number.")


class Empty(Strict):
    """An action that takes nothing."""


# The customers' side


class PortalRequestCreate(Strict):
    queue = serializers.IntegerField(help_text="One of GET /api/v1/portal/queues/.")
    category = serializers.IntegerField(required=False, allow_null=True)
    subject = serializers.CharField(max_length=255)
    body = serializers.CharField()
    attachments = FILES


class PortalReply(Strict):
    body = serializers.CharField()
    attachments = FILES


class Decision(Strict):
    approve = serializers.BooleanField(help_text="true approves, false refuses.")
