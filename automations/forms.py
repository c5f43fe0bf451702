"""The admin's forms for conditions and actions: what each field or kind needs, said so a
person can fix it before the rule is saved."""

from django import forms
from django.core.validators import validate_email

from automations import conditions
from automations.models import TARGETS, Action, Condition
from integrations import http
from tickets.access import is_agent
from tickets.models import Status

Op = Condition.Operator
K = Action.Kind


def _named(cleaned: dict) -> list[str]:
    return [name for name in TARGETS if cleaned.get(name) is not None]


class ConditionForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = ["field", "operator", "value", *TARGETS]

    def clean(self):
        cleaned = super().clean()
        field, operator = cleaned.get("field"), cleaned.get("operator")
        if not field or not operator:
            return cleaned
        label = Condition.Field(field).label.split(" (")[0].lower()
        if operator not in conditions.operators_for(field):
            raise forms.ValidationError(
                f"“{Op(operator).label}” does not apply to the {label}; choose another operator."
            )
        wanted = conditions.RELATIONS.get(field) or (
            "custom_field" if field == Condition.Field.CUSTOM_FIELD else None
        )
        needs_row = operator not in (Op.IS_EMPTY, Op.IS_SET, Op.CHANGED)
        if field == Condition.Field.CUSTOM_FIELD:
            needs_row = True
        named = _named(cleaned)
        if needs_row and wanted and wanted not in named:
            raise forms.ValidationError(f"Choose the {wanted.replace('_', ' ')} to compare with.")
        if set(named) - {wanted}:
            extra = ", ".join(n.replace("_", " ") for n in sorted(set(named) - {wanted}))
            raise forms.ValidationError(f"A condition on the {label} names no {extra}; clear it.")
        text_needed = field not in conditions.RELATIONS and operator not in (
            Op.IS_EMPTY, Op.IS_SET, Op.CHANGED,
        )  # fmt: skip
        if text_needed and not cleaned.get("value", "").strip():
            raise forms.ValidationError(f"Write the text the {label} is compared with.")
        return cleaned


# What each kind of action needs besides its kind, and the words asking for it.
NEEDS = {
    K.SET_OWNER: ("user", "Choose the agent who becomes the owner."),
    K.SET_TEAM: ("team", "Choose the team."),
    K.SET_PRIORITY: ("priority", "Choose the priority."),
    K.SET_STATUS: ("status", "Choose the status."),
    K.ADD_TAG: ("tag", "Choose the tag to add."),
    K.REMOVE_TAG: ("tag", "Choose the tag to remove."),
    K.SET_CUSTOM_FIELD: ("custom_field", "Choose the custom field to set."),
    K.SEND_EMAIL: ("template", "Choose the reply template the email is written from."),
    K.ADD_NOTE: ("value", "Write the note's text in “value”."),
    K.SCHEDULE_ACTIVITY: ("value", "Write the activity's title in “value”."),
    K.REQUEST_APPROVAL: ("value", "Write what the contact is asked to approve in “value”."),
    K.WEBHOOK: ("url", "Give the URL the webhook posts to."),
    K.PROVISION: ("url", "Give the provisioning endpoint's URL."),
}


class ActionForm(forms.ModelForm):
    class Meta:
        model = Action
        fields = [
            "order", "kind", "value", *TARGETS, "template", "recipient", "hours", "url",
            "secret",
        ]  # fmt: skip
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        needed = NEEDS.get(kind)
        if needed and not cleaned.get(needed[0]):
            self.add_error(needed[0] if needed[0] in self.fields else None, needed[1])
        status = cleaned.get("status")
        if kind == K.SET_STATUS and status is not None:
            if status.base == Status.Base.CLOSED:
                self.add_error("status", "To close, use “Close as resolved/unresolved”.")
            if status.base == Status.Base.POSTPONED and not cleaned.get("hours"):
                self.add_error("hours", "Say for how many hours a postponed request waits.")
        if kind == K.SET_OWNER and cleaned.get("user") and not is_agent(cleaned["user"]):
            self.add_error("user", "Only an agent can own a request.")
        if kind == K.SEND_EMAIL:
            self._clean_recipient(cleaned)
        if kind in (K.WEBHOOK, K.PROVISION) and cleaned.get("url"):
            try:
                http.check_url(cleaned["url"])
            except http.Refused as refusal:
                self.add_error("url", str(refusal))
            if not cleaned.get("secret"):
                self.add_error(
                    "secret", "Give a secret: the receiver checks the signature with it."
                )
        return cleaned

    def _clean_recipient(self, cleaned):
        recipient = cleaned.get("recipient")
        if not recipient:
            self.add_error("recipient", "Say whom the email goes to.")
        elif recipient == Action.Recipient.ADDRESS:
            try:
                validate_email(cleaned.get("value", "").strip())
            except forms.ValidationError:
                self.add_error("value", "Write the email address in “value”.")
