"""Contacts' accounts: invitations, sign-up with a verified address, password reset and
one-time sign-in links."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from tests.factories import PASSWORD, AdminFactory, ContactFactory, PortalContactFactory
from tickets import accounts
from tickets.models import Contact

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-brand-new-passphrase"


def mailed_link(index=-1) -> str:
    return re.search(r"https?://\S+", mail.outbox[index].body).group(0).split("testserver")[-1]


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def set_password_through(client, url):
    form_page = client.get(path_of(url))  # swaps the token into the session, like Django's
    return client.post(
        form_page.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )


# Invitations


def test_invited_contact_sets_a_password_by_the_link_and_is_signed_in(
    client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="Ivan@Example.test")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invite_contacts", "ivan@example.test")
    assert mail.outbox[0].to == ["Ivan@Example.test"]
    response = set_password_through(client, mailed_link())
    assert response.url == "/portal/requests/"
    contact.refresh_from_db()
    assert contact.user.check_password(NEW_PASSWORD)
    assert client.get("/portal/requests/").status_code == 200


def test_an_invitation_link_works_once(client, django_capture_on_commit_callbacks):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        accounts.invite_contact(contact)
    link = path_of(mailed_link())
    set_password_through(client, link)
    client.post("/portal/sign-out/")
    assert client.get(link, follow=True).context["validlink"] is False


def test_inviting_an_unknown_address_fails(db):
    with pytest.raises(CommandError, match="No contact"):
        call_command("invite_contacts", "nobody@example.test")


def test_an_agent_is_never_invited(db):
    admin = AdminFactory()
    contact = ContactFactory(email=admin.email, user=admin)
    with pytest.raises(ValueError, match="agent"):
        accounts.invite_contact(contact)


def test_the_admin_action_invites_the_selected_contacts(
    admin_client, django_capture_on_commit_callbacks
):
    contacts = [ContactFactory(), ContactFactory()]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/tickets/contact/",
            {"action": "invite_to_portal", "_selected_action": [c.pk for c in contacts]},
        )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in contacts)
    assert all(Contact.objects.get(pk=c.pk).user for c in contacts)


# Sign-up


def sign_up(client, email="dora@example.test", password=NEW_PASSWORD, **extra):
    data = {"name": "Dora", "email": email, "password1": password, "password2": password}
    return client.post("/portal/sign-up/", data | extra)


def test_sign_up_works_only_once_the_address_is_confirmed(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client)
    assert "Check your inbox" in response.content.decode()
    refused = client.post(
        "/portal/sign-in/", {"email": "dora@example.test", "password": NEW_PASSWORD}
    )
    assert "Confirm your email address first" in refused.content.decode()
    confirmed = client.get(path_of(mailed_link()))
    assert confirmed.url == "/portal/requests/"
    assert Contact.objects.get(email="dora@example.test").user.is_active
    assert client.get("/portal/requests/").status_code == 200


def test_a_verification_link_followed_twice_asks_to_sign_in(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = path_of(mailed_link())
    client.get(link)
    client.post("/portal/sign-out/")
    assert client.get(link).url == "/portal/sign-in/"


def test_a_forged_verification_link_is_refused(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    forged = re.sub(r"/[^/]+/$", "/forged-token/", path_of(mailed_link()))
    assert client.get(forged).status_code == 400
    assert client.get("/portal/verify/bm9wZQ/x-y/").status_code == 400
    assert not Contact.objects.get(email="dora@example.test").user.is_active


def test_sign_up_finds_the_contact_whatever_the_case(client, django_capture_on_commit_callbacks):
    known = ContactFactory(email="Dora@Example.TEST", name="Dora Known")
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, email="dora@example.test")
    known.refresh_from_db()
    assert known.user is not None
    assert Contact.objects.count() == 1


def test_sign_up_with_an_address_that_has_an_account_mails_a_hint_only(
    client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, email=customer.email)
    assert "Check your inbox" in response.content.decode()
    assert mail.outbox[0].subject == "You already have an account"
    customer.user.refresh_from_db()
    assert customer.user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_sign_up_shows_bad_input_next_to_its_field(client, extra, field):
    response = sign_up(client, **extra)
    assert field in response.context["form"].errors
    assert not Contact.objects.exists()


# Password reset


def test_password_reset_mails_a_link_that_sets_a_new_password(client, customer):
    client.post("/portal/password-reset/", {"email": customer.email.upper()})
    assert mail.outbox[0].subject == "Reset your password"
    assert set_password_through(client, mailed_link()).url == "/portal/requests/"
    customer.user.refresh_from_db()
    assert customer.user.check_password(NEW_PASSWORD)


def test_password_reset_sends_nothing_to_an_agent(client, agent):
    ContactFactory(email=agent.email)
    response = client.post("/portal/password-reset/", {"email": agent.email})
    assert response.url == "/portal/password-reset/sent/"
    assert mail.outbox == []


def test_password_reset_is_rate_limited_with_a_clear_message(client, customer):
    for _ in range(5):
        client.post("/portal/password-reset/", {"email": customer.email})
    response = client.post("/portal/password-reset/", {"email": customer.email})
    assert "Too many requests for this address; try again in 60 minutes" in (
        response.content.decode()
    )
    assert len(mail.outbox) == 5


# One-time sign-in links


def test_a_sign_in_link_signs_in_once(client, customer):
    client.post("/portal/sign-in/link/", {"email": customer.email})
    link = path_of(mailed_link())
    assert "_auth_user_id" not in client.session  # following it shows a button first
    assert client.get(link).status_code == 200
    assert client.post(link).url == "/portal/requests/"
    assert client.session["_auth_user_id"] == str(customer.user.pk)
    client.post("/portal/sign-out/")
    assert client.post(link).status_code == 400


def test_a_sign_in_link_expires(client, customer, monkeypatch):
    client.post("/portal/sign-in/link/", {"email": customer.email})
    later = accounts.sign_in_token._now() + timedelta(minutes=accounts.SIGN_IN_LINK_MINUTES + 1)
    monkeypatch.setattr(accounts.sign_in_token, "_now", lambda: later)
    assert client.post(path_of(mailed_link())).status_code == 400


def test_a_sign_in_link_is_never_sent_to_unknown_or_unconfirmed_addresses(client):
    PortalContactFactory(email="new@example.test", user__is_active=False)
    for email in ("nobody@example.test", "new@example.test"):
        response = client.post("/portal/sign-in/link/", {"email": email})
        assert "Check your inbox" in response.content.decode()
    assert mail.outbox == []
