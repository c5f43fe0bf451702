"""The portal's security rules, each as a table of (who, what, expected)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import (
    PASSWORD,
    AdminFactory,
    AttachmentFactory,
    PortalContactFactory,
    TeamFactory,
    TicketFactory,
)
from tickets import workflow
from tickets.models import Channel, Message

pytestmark = pytest.mark.django_db

OK = "ok"
NOT_FOUND = 404
FORBIDDEN = 403
SIGN_IN = "sign in"


@pytest.fixture
def world(customer, portal_queue, agent):
    """Carla's request with an attachment, and the people who try to reach it."""
    ticket = TicketFactory(queue=portal_queue, contact=customer, channel=Channel.PORTAL)
    attachment = AttachmentFactory(message=ticket.messages.get())
    approval = workflow.request_approval(ticket, text="A quote: 300 EUR", by=agent)
    company = customer.company
    return {
        "ticket": ticket,
        "attachment": attachment,
        "approval": approval,
        "people": {
            "owner": customer.user,
            "colleague allowed to see the company's": PortalContactFactory(
                company=company, can_see_company_requests=True
            ).user,
            "colleague not allowed": PortalContactFactory(company=company).user,
            "another company's contact": PortalContactFactory().user,
            "another company's contact allowed to see theirs": PortalContactFactory(
                can_see_company_requests=True
            ).user,
            "agent of the queue": agent,
            "admin": AdminFactory(),
            "anonymous": None,
        },
    }


ACTIONS = {
    "read": ("get", "/portal/requests/{number}/", {}),
    "reply": ("post", "/portal/requests/{number}/reply/", {"body": "Mine now"}),
    "close": ("post", "/portal/requests/{number}/close/", {}),
    "approve": ("post", "/portal/requests/{number}/approvals/{approval}/", {"decision": "approve"}),
}
EXPECTED = {
    "owner": OK,
    "colleague allowed to see the company's": OK,
    "colleague not allowed": NOT_FOUND,
    "another company's contact": NOT_FOUND,
    "another company's contact allowed to see theirs": NOT_FOUND,
    "agent of the queue": FORBIDDEN,
    "admin": FORBIDDEN,
    "anonymous": SIGN_IN,
}


def outcome(response) -> object:
    if response.status_code in (200, 206) or (
        response.status_code == 302 and "/sign-in/" not in response.url
    ):
        return OK
    if response.status_code == 302:
        return SIGN_IN
    return response.status_code


@pytest.mark.parametrize("what", ACTIONS)
@pytest.mark.parametrize(("who", "expected"), EXPECTED.items())
def test_who_may_do_what_with_a_request(client, world, who, what, expected):
    user = world["people"][who]
    if user is not None:
        client.force_login(user)
    method, url, data = ACTIONS[what]
    url = url.format(
        number=world["ticket"].number,
        attachment=world["attachment"].pk,
        approval=world["approval"].pk,
    )
    assert outcome(getattr(client, method)(url, data)) == expected


# The download is shared with the desk: an agent of the request's queue may open it too,
# and a visitor is sent to the (agents') sign-in, as a stale desk or portal page would.
DOWNLOAD = EXPECTED | {"agent of the queue": OK, "admin": OK, "anonymous": "login"}


@pytest.mark.parametrize(("who", "expected"), DOWNLOAD.items())
def test_who_may_download_a_requests_attachment(client, world, who, expected):
    user = world["people"][who]
    if user is not None:
        client.force_login(user)
    response = client.get(world["attachment"].get_absolute_url())
    if expected == "login":
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    else:
        assert outcome(response) == expected


@pytest.mark.parametrize(
    "number", ["NOPE-1", "../1", "%2e%2e", "1 OR 1=1", "Q1-00001", "' or ''='", "x" * 300]
)
def test_no_number_tried_reaches_another_customers_request(customer_client, number):
    other = TicketFactory(contact=PortalContactFactory())
    for url in (f"/portal/requests/{number}/", f"/portal/requests/{other.number}/"):
        assert customer_client.get(url).status_code == 404


def test_an_approval_of_another_request_is_not_found_through_ones_own(customer_client, world):
    theirs = TicketFactory(contact=PortalContactFactory(), queue=world["ticket"].queue)
    approval = workflow.request_approval(theirs, text="Theirs", by=None)
    url = f"/portal/requests/{world['ticket'].number}/approvals/{approval.pk}/"
    assert customer_client.post(url, {"decision": "approve"}).status_code == 404
    approval.refresh_from_db()
    assert approval.is_pending


def test_another_customers_attachment_is_not_found(customer_client, world):
    theirs = AttachmentFactory(message__ticket=TicketFactory(contact=PortalContactFactory()))
    assert customer_client.get(theirs.get_absolute_url()).status_code == 404


def test_a_deleted_request_is_gone_for_the_customer(customer_client, world):
    ticket = world["ticket"]
    workflow.delete_ticket(ticket, by=None)
    assert customer_client.get(f"/portal/requests/{ticket.number}/").status_code == 404
    assert not customer_client.get("/portal/requests/").context["page"].object_list


# What never reaches the portal


@pytest.fixture
def hidden(world, agent):
    """An internal note and an outside party's mail on Carla's request, each with a file,
    and internal fields set."""
    ticket = world["ticket"]
    note = workflow.add_note(ticket, text="INTERNAL: customer is difficult", by=agent)
    external = workflow.forward_to_external(
        ticket, by=agent, to="supplier@parts.test", body="EXTERNAL: what does a part cost?"
    )
    inbound = workflow.add_message(
        ticket,
        by=None,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        is_external=True,
        is_public=False,
        body_text="EXTERNAL ANSWER: 300 EUR",
    )
    team = TeamFactory(name="Second line secret team")
    agent.first_name, agent.last_name = "Olga", "Ownername"
    agent.save()
    workflow.assign_ticket(ticket, owner=agent, team=team, by=agent)
    return {
        "note": AttachmentFactory(message=note, filename="note-file.pdf"),
        "external": AttachmentFactory(message=external, filename="external-file.pdf"),
        "external answer": AttachmentFactory(message=inbound, filename="answer-file.pdf"),
    }


@pytest.mark.parametrize(
    "secret",
    [
        "INTERNAL: customer is difficult",
        "EXTERNAL: what does a part cost?",
        "EXTERNAL ANSWER",
        "supplier@parts.test",
        "note-file.pdf",
        "external-file.pdf",
        "answer-file.pdf",
        "Ownername",
        "Second line secret team",
        "Medium",  # the priority
    ],
)
def test_internal_things_never_reach_the_request_page_or_the_list(
    customer_client, world, hidden, secret
):
    number = world["ticket"].number
    for url in (f"/portal/requests/{number}/", "/portal/requests/"):
        assert secret not in customer_client.get(url).content.decode()


@pytest.mark.parametrize("which", ["note", "external", "external answer"])
def test_attachments_of_hidden_messages_cannot_be_downloaded(customer_client, world, hidden, which):
    assert customer_client.get(hidden[which].get_absolute_url()).status_code == 404


# Signing in


def test_sign_in_gives_the_session_a_new_key(client, customer):
    session = client.session
    session["planted"] = True
    session.save()
    before = session.session_key
    client.post("/portal/sign-in/", {"email": customer.email, "password": PASSWORD})
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(customer.user.pk)


@pytest.mark.parametrize(
    ("who", "page", "signed_in"),
    [
        ("customer", "/portal/sign-in/", True),
        ("customer", "/accounts/login/", False),
        ("agent", "/accounts/login/", True),
        ("agent", "/portal/sign-in/", False),
        ("admin", "/portal/sign-in/", False),
    ],
)
def test_agents_and_customers_sign_in_only_on_their_own_page(
    client, customer, agent, who, page, signed_in
):
    user = {"customer": customer.user, "agent": agent, "admin": AdminFactory()}[who]
    if who != "customer":
        # On file as a contact too: an agent's address may be a customer's (staff stay agents).
        PortalContactFactory(email=user.email, user=user if who == "admin" else None)
    field = "email" if page.startswith("/portal/") else "username"
    login = user.email if field == "email" else user.get_username()
    client.post(page, {field: login, "password": PASSWORD})
    assert ("_auth_user_id" in client.session) is signed_in


def test_a_customer_signed_in_is_refused_by_the_desk(customer_client):
    assert customer_client.get("/desk/requests/").status_code == 403


def test_repeated_failed_sign_ins_lock_the_address_with_a_clear_message(client, customer):
    for _ in range(5):
        client.post("/portal/sign-in/", {"email": customer.email, "password": "guess"})
    response = client.post("/portal/sign-in/", {"email": customer.email, "password": PASSWORD})
    assert "Too many failed sign-ins. Wait 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_address_locked_leaves_the_others_alone(client, customer):
    for _ in range(5):
        client.post("/portal/sign-in/", {"email": "someone@else.test", "password": "guess"})
    client.post("/portal/sign-in/", {"email": customer.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session


def test_many_failures_from_one_client_lock_it_out(client, customer):
    for n in range(50):
        client.post("/portal/sign-in/", {"email": f"guess{n}@x.test", "password": "guess"})
    response = client.post("/portal/sign-in/", {"email": customer.email, "password": PASSWORD})
    assert "Too many failed sign-ins" in response.content.decode()


# Content Security Policy


def test_portal_pages_carry_a_strict_content_security_policy(customer_client):
    policy = customer_client.get("/portal/requests/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("url", ["/desk/requests/", "/admin/", "/accounts/login/"])
def test_desk_and_admin_have_no_portal_policy(admin_client, url):
    assert "Content-Security-Policy" not in admin_client.get(url)


def test_portal_templates_have_no_inline_script_or_event_handlers():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    templates = [*Path(settings.BASE_DIR, "templates", "portal").rglob("*.html")]
    templates.append(Path(settings.BASE_DIR, "templates", "base.html"))
    for template in templates:
        text = template.read_text()
        assert not inline_script.search(text), template
        assert not handler.search(text), template
