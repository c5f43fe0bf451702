"""Contacts' portal accounts: invitations, sign-up with a verified address, one-time links.

A contact's login is a Django user linked by Contact.user. Every link we mail carries a
token in the style of Django's PasswordResetTokenGenerator, each kind with its own salt
so one kind of link never opens another, and each invalidated by what it changes (the
password, the activation, the last sign-in): a link works once.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from tickets.access import is_agent
from tickets.models import Contact

User = get_user_model()
SIGN_IN_LINK_MINUTES = 15


class PasswordToken(PasswordResetTokenGenerator):
    """Set a password (an invitation, a reset); spent once the password changes."""

    key_salt = "tickets.accounts.PasswordToken"


class VerificationToken(PasswordResetTokenGenerator):
    """Confirm a new account's address; spent once the account is active."""

    key_salt = "tickets.accounts.VerificationToken"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


class SignInToken(PasswordResetTokenGenerator):
    """Sign in without a password; spent by signing in (last_login changes), and short-lived."""

    key_salt = "tickets.accounts.SignInToken"

    def check_token(self, user, token):
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= SIGN_IN_LINK_MINUTES * 60


password_token = PasswordToken()
verification_token = VerificationToken()
sign_in_token = SignInToken()


def link(view: str, user: AbstractBaseUser, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.SITE_URL}{reverse(view, kwargs={'uidb64': uid, 'token': token})}"


def _mail(to: str, template: str, context: dict) -> None:
    subject, body = render_to_string(f"emails/{template}.txt", context).split("\n", 1)
    send_mail(subject.strip(), body.lstrip(), None, [to])


def _username_for(email: str) -> str:
    """The address itself when it is free (readable in the admin), else a unique one."""
    username = email.lower()[:150]
    if not User.objects.filter(username__iexact=username).exists():
        return username
    return f"portal-{secrets.token_hex(8)}"


def _new_login(contact: Contact, *, password: str | None, active: bool) -> AbstractBaseUser:
    user = User(username=_username_for(contact.email), email=contact.email, is_active=active)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    contact.user = user
    contact.save(update_fields=["user"])
    return user


@transaction.atomic
def invite_contact(contact: Contact) -> AbstractBaseUser:
    """Give the contact a portal login (if they have none) and mail them a one-time link to
    set its password."""
    user = contact.user or _new_login(contact, password=None, active=True)
    if is_agent(user):
        raise ValueError(f"{contact.email} signs in as an agent; agents are not invited.")
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    url = link("portal:set_password", user, password_token.make_token(user))
    transaction.on_commit(
        lambda: _mail(contact.email, "portal_invitation", {"contact": contact, "url": url})
    )
    return user


@transaction.atomic
def sign_up(*, email: str, name: str, password: str) -> None:
    """A visitor asks for an account. The contact is found by address (case-insensitively)
    or made; the account works once the address is confirmed by the mailed link. The
    answer on the page is the same either way, so addresses cannot be probed."""
    contact = Contact.objects.find_or_create(email, name=name)
    user = contact.user
    if user is not None and (user.is_active or is_agent(user)):
        transaction.on_commit(
            lambda: _mail(
                contact.email,
                "portal_already_registered",
                {"contact": contact, "url": f"{settings.SITE_URL}{reverse('portal:sign_in')}"},
            )
        )
        return
    if user is None:
        user = _new_login(contact, password=password, active=False)
    else:  # signed up before without confirming: the newest password counts
        user.set_password(password)
        user.save(update_fields=["password"])
    if name and not contact.name:
        contact.name = name
        contact.save(update_fields=["name"])
    url = link("portal:verify", user, verification_token.make_token(user))
    transaction.on_commit(
        lambda: _mail(contact.email, "portal_verify", {"contact": contact, "url": url})
    )


def verify(user: AbstractBaseUser, token: str) -> bool:
    """Confirm the address: the account starts working."""
    if not verification_token.check_token(user, token):
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    return True


def send_sign_in_link(email: str) -> None:
    """Mail a one-time sign-in link to a customer with a working account; nothing otherwise
    (the page says the same either way)."""
    contact = Contact.objects.with_email(email).select_related("user").first()
    user = contact.user if contact else None
    if user is None or not user.is_active or is_agent(user):
        return
    url = link("portal:sign_in_link_confirm", user, sign_in_token.make_token(user))
    context = {"contact": contact, "url": url, "minutes": SIGN_IN_LINK_MINUTES}
    _mail(contact.email, "portal_sign_in_link", context)


def portal_users_with_address(email: str):
    """The customers' logins a password reset for this address may go to."""
    users = User.objects.filter(contact__email__iexact=email, is_active=True)
    return [user for user in users if user.has_usable_password() and not is_agent(user)]
