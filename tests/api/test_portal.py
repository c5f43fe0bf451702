"""Self-service through the API: a contact follows, opens, writes to, approves and closes
their requests by the portal's rules; another company's requests do not exist for them."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api import tokens
from tests.factories import (
    ApprovalFactory,
    CompanyFactory,
    PortalContactFactory,
    QueueFactory,
    TicketFactory,
)
from tickets import workflow
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return PortalContactFactory(company=CompanyFactory(name="Acme"))


@pytest.fixture
def bearer(contact):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(contact.user, name='app').plaintext}"}


@pytest.fixture
def portal_queue():
    return QueueFactory(name="Help", is_open_to_portal=True)


def post(client, url, data, bearer):
    return client.post(url, json.dumps(data), content_type="application/json", **bearer)


def test_a_contact_sees_their_own_requests_only(client, contact, bearer, portal_queue):
    mine = TicketFactory(queue=portal_queue, contact=contact)
    colleague = PortalContactFactory(company=contact.company)
    TicketFactory(queue=portal_queue, contact=colleague)
    answer = client.get("/api/v1/portal/requests/", **bearer)
    assert [r["number"] for r in answer.json()["results"]] == [mine.number]


def test_company_requests_only_where_the_contact_may_follow_them(
    client, contact, bearer, portal_queue
):
    theirs = TicketFactory(
        queue=portal_queue, contact=PortalContactFactory(company=contact.company)
    )
    assert client.get("/api/v1/portal/requests/?scope=company", **bearer).status_code == 400
    assert client.get(f"/api/v1/portal/requests/{theirs.number}/", **bearer).status_code == 404
    contact.can_see_company_requests = True
    contact.save()
    answer = client.get("/api/v1/portal/requests/?scope=company", **bearer)
    assert [r["number"] for r in answer.json()["results"]] == [theirs.number]


def test_another_companys_request_is_404_for_every_action(client, bearer, portal_queue):
    other = TicketFactory(queue=portal_queue, contact=PortalContactFactory())
    url = f"/api/v1/portal/requests/{other.number}"
    assert client.get(f"{url}/", **bearer).status_code == 404
    assert client.get(f"{url}/messages/", **bearer).status_code == 404
    assert post(client, f"{url}/reply/", {"body": "hi"}, bearer).status_code == 404
    assert post(client, f"{url}/close/", {}, bearer).status_code == 404
    assert other.messages.count() == 1


def test_a_contact_opens_a_request_in_a_portal_queue(client, contact, bearer, portal_queue):
    answer = post(
        client, "/api/v1/portal/requests/",
        {"queue": portal_queue.pk, "subject": "Broken screen", "body": "It flickers."}, bearer,
    )  # fmt: skip
    assert answer.status_code == 201, answer.json()
    created = Ticket.objects.get(number=answer.json()["number"])
    assert (created.contact, created.channel) == (contact, "portal")


def test_a_queue_closed_to_the_portal_is_a_field_error(client, bearer):
    answer = post(
        client, "/api/v1/portal/requests/",
        {"queue": QueueFactory().pk, "subject": "x", "body": "y"}, bearer,
    )  # fmt: skip
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["queue"])
    assert not Ticket.objects.exists()


def test_a_contact_reads_public_messages_only_and_writes_with_a_file(
    client, contact, bearer, portal_queue, agent
):
    ticket = TicketFactory(queue=portal_queue, contact=contact)
    workflow.add_note(ticket, text="Customer is grumpy", by=agent)
    upload = SimpleUploadedFile("photo.png", b"\x89PNG...", content_type="image/png")
    url = f"/api/v1/portal/requests/{ticket.number}"
    written = client.post(
        f"{url}/reply/", {"body": "Here is a photo", "attachments": [upload]}, **bearer
    )
    assert written.status_code == 201, written.json()
    messages = client.get(f"{url}/messages/", **bearer).json()["results"]
    assert [m["kind"] for m in messages] == ["email", "portal"]
    assert "is_public" not in messages[0]
    download = client.get(messages[1]["attachments"][0]["download"], **bearer)
    assert download.status_code == 200


def test_a_contact_cannot_open_an_internal_notes_attachment(
    client, contact, bearer, portal_queue, agent
):
    from tests.factories import AttachmentFactory

    ticket = TicketFactory(queue=portal_queue, contact=contact)
    note = workflow.add_note(ticket, text="Internal", by=agent)
    secret = AttachmentFactory(message=note)
    assert client.get(f"/api/v1/attachments/{secret.pk}/", **bearer).status_code == 404


def test_writing_to_a_closed_request_is_refused_with_the_reason(
    client, contact, bearer, portal_queue
):
    ticket = TicketFactory(queue=portal_queue, contact=contact)
    assert (
        post(client, f"/api/v1/portal/requests/{ticket.number}/close/", {}, bearer).status_code
        == 200
    )
    answer = post(
        client, f"/api/v1/portal/requests/{ticket.number}/reply/", {"body": "Again"}, bearer
    )
    assert answer.status_code == 409
    assert "closed" in answer.json()["detail"]


def test_a_contact_approves_what_they_are_asked(client, contact, bearer, portal_queue):
    ticket = TicketFactory(queue=portal_queue, contact=contact)
    approval = ApprovalFactory(ticket=ticket)
    url = f"/api/v1/portal/requests/{ticket.number}/approvals"
    assert [a["id"] for a in client.get(f"{url}/", **bearer).json()] == [approval.pk]
    answer = post(client, f"{url}/{approval.pk}/decide/", {"approve": True}, bearer)
    assert (answer.status_code, answer.json()["approved"]) == (200, True)
    again = post(client, f"{url}/{approval.pk}/decide/", {"approve": False}, bearer)
    assert again.status_code == 409


def test_an_approval_asked_of_agents_is_not_the_customers(
    client, contact, bearer, portal_queue, agent
):
    ticket = TicketFactory(queue=portal_queue, contact=contact)
    approval = ApprovalFactory(ticket=ticket, asks="agents", approver=agent)
    url = f"/api/v1/portal/requests/{ticket.number}/approvals"
    assert client.get(f"{url}/", **bearer).json() == []
    assert (
        post(client, f"{url}/{approval.pk}/decide/", {"approve": True}, bearer).status_code == 404
    )


def test_an_agent_cannot_use_self_service(client, agent):
    bearer = f"Bearer {tokens.issue(agent, name='t').plaintext}"
    assert client.get("/api/v1/portal/requests/", HTTP_AUTHORIZATION=bearer).status_code == 403


def test_the_portal_queues(client, bearer, portal_queue):
    QueueFactory(name="Back office")
    assert [q["name"] for q in client.get("/api/v1/portal/queues/", **bearer).json()] == ["Help"]


def test_the_portal_list_costs_the_same_queries_for_many(
    client, contact, bearer, portal_queue, django_assert_max_num_queries
):
    for _ in range(12):
        TicketFactory(queue=portal_queue, contact=contact)
    client.get("/api/v1/portal/requests/", **bearer)  # the token's first use is noted once
    with django_assert_max_num_queries(4):
        answer = client.get("/api/v1/portal/requests/", **bearer)
    assert len(answer.json()["results"]) == 12
