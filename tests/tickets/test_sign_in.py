"""Signing in to the desk and the admin: who may, and how guessing is stopped."""

import pytest

from tests.factories import PASSWORD, AdminFactory, PortalContactFactory, UserFactory
from tickets import ratelimit

pytestmark = pytest.mark.django_db
DESK, ADMIN = "/accounts/login/", "/admin/login/"


def sign_in(client, url, username, password=PASSWORD):
    return client.post(url, {"username": username, "password": password})


def test_an_agent_signs_in_to_the_desk(client):
    agent = UserFactory()
    response = sign_in(client, DESK, agent.username)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_a_customer_is_sent_to_the_portal(client):
    customer = PortalContactFactory()
    response = sign_in(client, DESK, customer.user.username)
    assert "Customers sign in on the portal at /portal/." in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("url", "user_factory"), [(DESK, UserFactory), (ADMIN, AdminFactory)])
def test_after_five_failures_even_the_right_password_waits(client, url, user_factory):
    user, other = user_factory(), user_factory()
    for _ in range(5):
        assert sign_in(client, url, user.username, "wrong").status_code == 200
    response = sign_in(client, url, user.username)
    assert "Too many failed sign-ins. Wait 15 minutes" in response.text
    assert "_auth_user_id" not in client.session
    # Counted per username: a colleague on the same address still gets in.
    assert sign_in(client, url, other.username).status_code == 302


def test_a_successful_sign_in_forgets_the_failures(client):
    agent = UserFactory()
    for _ in range(4):
        sign_in(client, DESK, agent.username, "wrong")
    assert sign_in(client, DESK, agent.username).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, DESK, agent.username, "wrong")
    assert sign_in(client, DESK, agent.username).status_code == 302


def test_one_address_guessing_many_usernames_is_stopped(client):
    allowed, _ = ratelimit.LIMITS["sign_in_ip"]  # shared with the portal's sign-in
    for n in range(allowed):
        sign_in(client, DESK, f"nobody{n}", "wrong")
    agent = UserFactory()
    assert "Too many failed sign-ins" in sign_in(client, DESK, agent.username).text
