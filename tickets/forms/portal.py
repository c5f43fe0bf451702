"""Forms of the customer portal: they check what a customer typed; the workflow decides."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from mptt.forms import TreeNodeChoiceField

from tickets import ratelimit, search
from tickets.access import is_agent
from tickets.accounts import portal_users_with_address
from tickets.forms.request import MultipleFileField
from tickets.models import Category, Contact, Queue

User = get_user_model()
STATES = [("", "Open and closed"), ("open", "Open"), ("closed", "Closed")]


class AttachmentsField(MultipleFileField):
    """Files of one message, within the upload limits."""

    def __init__(self, **kwargs):
        limit = settings.MAX_ATTACHMENT_BYTES // 2**20
        kwargs.setdefault(
            "help_text",
            f"Up to {settings.MAX_ATTACHMENTS_PER_MESSAGE} files, {limit} MB each.",
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = super().clean(data, initial)
        if len(files) > settings.MAX_ATTACHMENTS_PER_MESSAGE:
            raise ValidationError(
                f"Attach at most {settings.MAX_ATTACHMENTS_PER_MESSAGE} files to one message."
            )
        for upload in files:
            if upload.size > settings.MAX_ATTACHMENT_BYTES:
                raise ValidationError(
                    f"“{upload.name}” is larger than {settings.MAX_ATTACHMENT_BYTES // 2**20} MB."
                )
        return files


class SignInForm(forms.Form):
    """A customer signs in with their email address. Failed attempts are counted per
    address and per client address; past the limit every attempt is refused for a while."""

    email = forms.EmailField(label="Email address")
    password = forms.CharField(strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = None

    def clean(self):
        email, password = self.cleaned_data.get("email"), self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        ip = ratelimit.client_ip(self.request)
        if ratelimit.is_limited("sign_in", email) or ratelimit.is_limited("sign_in_ip", ip):
            raise ValidationError(
                "Too many failed sign-ins. Wait "
                f"{ratelimit.minutes('sign_in')} minutes and try again, or reset your password."
            )
        contact = Contact.objects.with_email(email).select_related("user").first()
        account = contact.user if contact else None
        user = None
        if account is not None:
            user = authenticate(self.request, username=account.get_username(), password=password)
        if user is None or is_agent(user):
            ratelimit.hit("sign_in", email)
            ratelimit.hit("sign_in_ip", ip)
            if account is not None and not account.is_active and account.check_password(password):
                raise ValidationError(
                    "Confirm your email address first: follow the link we sent you."
                )
            raise ValidationError("That email address and password do not match an account.")
        ratelimit.reset("sign_in", email)
        self.user = user
        return self.cleaned_data


class RequestFilterForm(forms.Form):
    state = forms.ChoiceField(choices=STATES, required=False, label="Show")
    q = forms.CharField(required=False, label="Search", max_length=search.MAX_QUERY_LENGTH)


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your message", widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField(label="Attachments")


def portal_categories():
    """The categories of the queues open to the portal (every category when one of them
    lists none)."""
    queues = Queue.objects.filter(is_open_to_portal=True)
    if queues.filter(categories__isnull=True).exists():
        return Category.objects.all()
    listed = Category.objects.filter(queues__in=queues).distinct()
    return Category.objects.get_queryset_descendants(listed, include_self=True)


class NewRequestForm(forms.Form):
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.filter(is_open_to_portal=True),
        label="What is it about?",
        empty_label="Pick one",
        error_messages={"invalid_choice": "Pick one of the listed subjects."},
    )
    category = TreeNodeChoiceField(
        queryset=Category.objects.none(), required=False, empty_label="I don't know"
    )
    subject = forms.CharField(max_length=255)
    body = forms.CharField(label="Describe it", widget=forms.Textarea(attrs={"rows": 6}))
    attachments = AttachmentsField(label="Attachments")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = portal_categories()

    def clean(self):
        queue, category = self.cleaned_data.get("queue"), self.cleaned_data.get("category")
        if queue and category and not queue.accepts_category(category):
            self.add_error("category", f"“{category}” does not apply to {queue}.")
        return self.cleaned_data


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=50, required=False)


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(label="Email address")
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="The same again", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data["password2"]
        if first and first != second:
            raise ValidationError("The two passwords differ.")
        password_validation.validate_password(
            second, User(username=self.cleaned_data.get("email", ""))
        )
        return second

    def clean(self):
        ip = ratelimit.client_ip(self.request)
        if ratelimit.is_limited("sign_up_ip", ip):
            raise ValidationError("Too many sign-ups from your network; try again in an hour.")
        ratelimit.hit("sign_up_ip", ip)
        return self.cleaned_data


def check_mail_limit(request, scope: str, email: str) -> None:
    """Each address, and each client, may ask for mailed links only so often: nobody should
    be flooded with mail they did not ask for, nor our sender end up on a blocklist."""
    ip = ratelimit.client_ip(request)
    if ratelimit.is_limited(scope, email) or ratelimit.is_limited(f"{scope}_ip", ip):
        raise ValidationError(
            f"Too many requests for this address; try again in {ratelimit.minutes(scope)} minutes."
        )
    ratelimit.hit(scope, email)
    ratelimit.hit(f"{scope}_ip", ip)


class SignInLinkForm(forms.Form):
    email = forms.EmailField(label="Email address")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self):
        check_mail_limit(self.request, "sign_in_link", self.cleaned_data["email"])
        return self.cleaned_data["email"]


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, for customers' logins only and within the rate limit."""

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self):
        check_mail_limit(self.request, "password_reset", self.cleaned_data["email"])
        return self.cleaned_data["email"]

    def get_users(self, email):
        return portal_users_with_address(email)
