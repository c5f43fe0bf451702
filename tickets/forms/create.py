"""Input validation for registering a request at the desk (phone, email, internal)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.urls import reverse_lazy
from mptt.forms import TreeNodeChoiceField

from tickets import sms
from tickets.access import queues_for
from tickets.forms.people import ContactForm
from tickets.forms.request import sms_help, sms_text_widget
from tickets.models import Category, Channel, Contact, Level, Priority

BODY_NEEDED = {
    Channel.PHONE: "Write what the customer said.",
    Channel.EMAIL: "Write the email to send.",
    Channel.SMS: "Write the SMS to send.",
}
DESK_CHANNELS = [
    (Channel.PHONE, "Phone call"),
    (Channel.EMAIL, "Email to the contact"),
    (Channel.INTERNAL, "Internal"),
    (Channel.SMS, "SMS to the contact"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


def tag_names(text: str) -> list[str]:
    names = (name.strip() for name in text.split(","))
    return list(dict.fromkeys(name for name in names if name))


class NewRequestForm(forms.Form):
    """What an agent fills in to register a request.

    The contact is, in order: the one picked in the lookup (`contact`), the one whose
    address was typed in full into the lookup box (so the form works without JavaScript),
    or a new one described by the embedded ContactForm (`self.new_contact`), which is
    saved only together with the request. `cleaned_data["contact"]` is None when the
    request needs the new contact, or is internal.
    """

    channel = forms.ChoiceField(
        choices=DESK_CHANNELS, initial=Channel.PHONE, widget=forms.RadioSelect
    )
    queue = forms.ModelChoiceField(
        queryset=None,
        empty_label="Pick a queue",
        error_messages={"invalid_choice": "Pick one of your queues."},
    )
    contact_query = forms.CharField(
        label="Find a contact",
        required=False,
        help_text="Type a name, an email address or a phone number, then pick.",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "autofocus": True,
                "hx-get": reverse_lazy("desk:contact_lookup"),
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#contact-results",
                # Enter picks nothing by itself; it must not submit the half-filled form.
                "hx-on:keydown": "if (event.key === 'Enter') event.preventDefault()",
            }
        ),
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That contact no longer exists; pick again."},
    )
    # Set by the "use this contact" button shown when a new contact's address is taken.
    use_contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That contact no longer exists; pick again."},
    )
    subject = forms.CharField(max_length=255)
    body = forms.CharField(
        label="",  # the page labels it by channel
        required=False,
        # the counter counts SMS; the page shows it only for an SMS request
        widget=sms_text_widget(rows=8),
    )
    attachments = MultipleFileField(required=False)
    category = TreeNodeChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="No category"
    )
    impact = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    priority = forms.ModelChoiceField(
        queryset=Priority.objects.all(),
        required=False,
        empty_label="From impact × urgency",
        help_text="Leave empty for the priority model (or the category's / queue's default).",
    )
    owner = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Default (category rule, else me)"
    )
    team = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), required=False, empty_label="No team"
    )
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    time_units = forms.IntegerField(min_value=0, initial=0, required=False)

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = queues_for(user).order_by("name")
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, contact__isnull=True)
            .order_by("first_name", "last_name", "username")
        )
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["body"].help_text = sms_help()
        self.new_contact = ContactForm(self.data if self.is_bound else None, prefix="new")
        self.new_contact.fields["email"].required = False

    def clean_tags(self) -> list[str]:
        return tag_names(self.cleaned_data["tags"])

    def clean_time_units(self) -> int:
        return self.cleaned_data["time_units"] or 0

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        queue, category = data.get("queue"), data.get("category")
        if queue is not None and not queue.accepts_category(category):
            self.add_error("category", f"The queue {queue} does not take this category.")
        if channel in BODY_NEEDED and not data.get("body", "").strip():
            self.add_error("body", BODY_NEEDED[channel])
        if channel == Channel.SMS and (reason := sms.too_long(data.get("body", ""))):
            self.add_error("body", reason)
        if channel == Channel.INTERNAL:
            data["contact"] = None
        elif channel:
            data["contact"] = self._chosen_contact(data)
        if channel == Channel.SMS:
            self._check_mobile(data["contact"])
        return data

    def _check_mobile(self, contact: Contact | None) -> None:
        """An SMS request opens with an SMS: its contact needs a mobile number."""
        if contact is not None and not contact.mobile:
            self.add_error(
                "contact",
                f"{contact} has no mobile number: add one, or pick another channel.",
            )
        elif (
            contact is None
            and self.new_contact.is_valid()
            and not self.new_contact.cleaned_data["mobile"]
        ):
            self.new_contact.add_error("mobile", "An SMS needs the contact's mobile number.")
            self.add_error("contact_query", "Give the new contact a mobile number.")

    def _chosen_contact(self, data) -> Contact | None:
        picked = data.get("use_contact") or data.get("contact")
        if picked is not None:
            return picked
        typed = data.get("contact_query", "").strip()
        if "@" in typed:
            found = Contact.objects.with_email(typed).first()
            if found is not None:
                return found
        if not self.new_contact.is_valid():
            self.add_error("contact_query", "Pick a contact, or fix the new contact below.")
        elif not self.new_contact.cleaned_data["email"]:
            self.new_contact.add_error("email", "A new contact needs an email address.")
            self.add_error("contact_query", "Pick a contact, or enter a new one below.")
        return None

    @property
    def creates_contact(self) -> bool:
        return (
            self.cleaned_data["channel"] != Channel.INTERNAL
            and self.cleaned_data["contact"] is None
        )

    def request_fields(self, contact: Contact | None) -> dict:
        """What workflow.create_ticket is given for this form (the desk page and the API
        alike); `contact` is the chosen one or the new one just saved."""
        data = self.cleaned_data
        return {
            "queue": data["queue"],
            "subject": data["subject"],
            "channel": data["channel"],
            "contact": contact,
            "body": data["body"],
            # An agent's email request opens with the agent writing to the contact.
            "outbound_email": data["channel"] == Channel.EMAIL,
            "outbound_sms": data["channel"] == Channel.SMS,
            "category": data["category"],
            "priority": data["priority"],
            **self.priority_model_cell,
            "owner": data["owner"],
            "team": data["team"],
            "tags": data["tags"],
            "time_units": data["time_units"],
            "attachments": data["attachments"],
        }

    @property
    def priority_model_cell(self) -> dict:
        """Impact and urgency for the workflow, left out when both are the medium default
        so that the category's and the queue's default priority still apply."""
        impact, urgency = self.cleaned_data["impact"], self.cleaned_data["urgency"]
        if impact == Level.MEDIUM and urgency == Level.MEDIUM:
            return {"impact": None, "urgency": None}
        return {"impact": impact, "urgency": urgency}
