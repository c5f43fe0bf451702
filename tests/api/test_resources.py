"""What the back-office API reads besides requests: messages, history, the change feed,
people and the settings; shaping with fields= and expand=; rate limits; query counts that
do not grow with rows."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from api import tokens
from tests.conftest import LOOKUP_QUERIES
from tests.factories import (
    AttachmentFactory,
    CategoryFactory,
    CompanyFactory,
    ContactFactory,
    CustomFieldFactory,
    MessageFactory,
    QueueFactory,
    TagFactory,
    TicketFactory,
)
from tickets import workflow
from tickets.models import Contact, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(agent):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='tests').plaintext}"}


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, subject="Printer jams")


def test_messages_and_notes_oldest_first_with_their_attachments(client, ticket, agent, bearer):
    workflow.add_note(ticket, text="Checked the toner", by=agent)
    AttachmentFactory(message=ticket.messages.first())
    answer = client.get(f"/api/v1/requests/{ticket.number}/messages/", **bearer)
    results = answer.json()["results"]
    assert [m["kind"] for m in results] == ["email", "note"]
    assert results[0]["attachments"][0]["filename"] == "invoice.pdf"


def test_the_messages_cost_the_same_queries_for_many(
    client, ticket, bearer, django_assert_max_num_queries
):
    for _ in range(15):
        AttachmentFactory(message=MessageFactory(ticket=ticket))
    # the token (and its first use noted), the agent, the request, its queue, the page
    with django_assert_max_num_queries(9 + LOOKUP_QUERIES):
        answer = client.get(f"/api/v1/requests/{ticket.number}/messages/", **bearer)
    assert len(answer.json()["results"]) == 16


def test_the_history_of_a_request(client, ticket, agent, bearer):
    workflow.update_ticket(ticket, urgency="high", by=agent)
    answer = client.get(f"/api/v1/requests/{ticket.number}/history/", **bearer)
    changes = [(e["action"], e["field"], e["new_value"]) for e in answer.json()["results"]]
    assert changes == [("created", "", ticket.number), ("changed", "urgency", "high")]
    assert answer.json()["results"][0]["actor"]["name"] == "Alice Agent"


def test_the_messages_and_history_of_a_hidden_request_are_404(client, agent, bearer):
    hidden = TicketFactory(queue=QueueFactory(), by=agent)
    for part in ("messages", "history"):
        assert client.get(f"/api/v1/requests/{hidden.number}/{part}/", **bearer).status_code == 404


def test_fields_keeps_only_those_and_expand_puts_the_rows_in(client, ticket, bearer):
    url = f"/api/v1/requests/{ticket.number}/?fields=number,queue,contact&expand=queue,contact"
    answer = client.get(url, **bearer).json()
    assert set(answer) == {"number", "queue", "contact"}
    assert answer["queue"] == {"id": ticket.queue_id, "name": "Support"}
    assert answer["contact"]["email"] == ticket.contact.email


def test_expanded_lists_cost_no_more_queries(
    client, queue, agent, bearer, django_assert_max_num_queries
):
    for _ in range(12):
        TicketFactory(queue=queue, by=agent, owner=agent, tags=["a", "b"])
    # the list's own, plus one for each row prefetched: tags and the three expanded
    with django_assert_max_num_queries(11):
        answer = client.get("/api/v1/requests/?expand=queue,owner,contact,status", **bearer)
    assert answer.json()["results"][0]["owner"]["name"] == "Alice Agent"


def test_the_change_feed_gives_each_change_once_in_order(client, queue, agent, bearer):
    past = timezone.now() - timedelta(minutes=10)
    first = TicketFactory(queue=queue, by=agent, now=past)
    second = TicketFactory(queue=queue, by=agent, now=past + timedelta(seconds=1))
    TicketFactory(queue=QueueFactory(), by=agent, now=past)  # not the agent's
    page = client.get("/api/v1/requests/changes/?page_size=1", **bearer).json()
    assert ([r["number"] for r in page["results"]], page["has_more"]) == ([first.number], True)
    page = client.get(f"/api/v1/requests/changes/?since={page['next_since']}", **bearer).json()
    assert ([r["number"] for r in page["results"]], page["has_more"]) == ([second.number], False)
    workflow.update_ticket(first, urgency="high", by=agent, now=past + timedelta(minutes=1))
    page = client.get(f"/api/v1/requests/changes/?since={page['next_since']}", **bearer).json()
    assert [r["number"] for r in page["results"]] == [first.number]
    quiet = client.get(f"/api/v1/requests/changes/?since={page['next_since']}", **bearer).json()
    assert (quiet["results"], quiet["next_since"]) == ([], page["next_since"])


def test_the_change_feed_waits_for_changes_to_settle(client, queue, agent, bearer):
    TicketFactory(
        queue=queue, by=agent
    )  # this very moment: a later commit may still land before it
    assert client.get("/api/v1/requests/changes/", **bearer).json()["results"] == []


def test_a_forged_since_is_a_400(client, agent, bearer):
    answer = client.get("/api/v1/requests/changes/?since=bm9wZQ", **bearer)
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["since"])


def test_contacts_are_found_added_and_edited_through_the_desks_checks(client, agent, bearer):
    company = CompanyFactory(name="Acme")
    ContactFactory(name="Bob Builder", email="bob@acme.test", company=company)
    found = client.get("/api/v1/contacts/?q=acme", **bearer).json()["results"]
    assert [c["email"] for c in found] == ["bob@acme.test"]
    added = client.post(
        "/api/v1/contacts/", {"name": "Carol", "email": "carol@acme.test", "company": company.pk},
        content_type="application/json", **bearer,
    )  # fmt: skip
    assert added.status_code == 201, added.json()
    clash = client.post(
        "/api/v1/contacts/", {"email": "BOB@acme.test"}, content_type="application/json", **bearer
    )
    assert clash.status_code == 400
    assert "email" in clash.json()["errors"]
    edited = client.patch(
        f"/api/v1/contacts/{added.json()['id']}/", {"phone": "+44 20 1234"},
        content_type="application/json", **bearer,
    )  # fmt: skip
    assert edited.json()["phone"] == "+44 20 1234"
    assert Contact.objects.get(email="carol@acme.test").company == company


def test_a_company_name_taken_in_other_letters_is_refused(client, bearer):
    CompanyFactory(name="Acme")
    answer = client.post(
        "/api/v1/companies/", {"name": "ACME"}, content_type="application/json", **bearer
    )
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["name"])


def test_the_settings_lists(client, queue, bearer):
    CategoryFactory(name="Hardware")
    TagFactory(name="vpn")
    CustomFieldFactory(key="asset", name="Asset tag")
    CustomFieldFactory(key="elsewhere").queues.set([QueueFactory()])
    assert [q["name"] for q in client.get("/api/v1/queues/", **bearer).json()] == ["Support"]
    stages = client.get("/api/v1/stages/", **bearer).json()
    assert {s["queue"] for s in stages} == {queue.pk}
    assert "active" in {s["base"] for s in client.get("/api/v1/statuses/", **bearer).json()}
    assert client.get("/api/v1/priorities/", **bearer).json()
    assert [c["name"] for c in client.get("/api/v1/categories/", **bearer).json()] == ["Hardware"]
    assert [t["name"] for t in client.get("/api/v1/tags/", **bearer).json()["results"]] == ["vpn"]
    assert [f["key"] for f in client.get("/api/v1/custom-fields/", **bearer).json()] == ["asset"]


def test_a_stage_of_another_queue_is_404(client, bearer):
    other = QueueFactory().stages.first()
    assert client.get(f"/api/v1/stages/{other.pk}/", **bearer).status_code == 404


def test_a_token_over_its_rate_is_told_when_to_come_back(client, ticket, bearer, settings):
    settings.API_RATE_LIMIT = "3/minute"
    for _ in range(3):
        assert client.get("/api/v1/requests/", **bearer).status_code == 200
    answer = client.get("/api/v1/requests/", **bearer)
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0
    assert answer["Content-Type"] == "application/problem+json"


def test_each_token_has_its_own_allowance(client, ticket, agent, bearer, settings):
    settings.API_RATE_LIMIT = "1/minute"
    other = {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='other').plaintext}"}
    assert client.get("/api/v1/requests/", **bearer).status_code == 200
    assert client.get("/api/v1/requests/", **other).status_code == 200
    assert client.get("/api/v1/requests/", **bearer).status_code == 429


def test_an_unknown_field_in_an_edit_of_a_contact_is_refused(client, bearer):
    contact = ContactFactory()
    answer = client.patch(
        f"/api/v1/contacts/{contact.pk}/", json.dumps({"colour": "red"}),
        content_type="application/json", **bearer,
    )  # fmt: skip
    assert answer.json()["errors"] == {"colour": ["There is no such field."]}


def test_a_contact_cannot_use_the_back_office_api(client):
    from tests.factories import PortalContactFactory

    contact = PortalContactFactory()
    bearer = f"Bearer {tokens.issue(contact.user, name='mine').plaintext}"
    assert client.get("/api/v1/requests/", HTTP_AUTHORIZATION=bearer).status_code == 403
    assert client.get("/api/v1/contacts/", HTTP_AUTHORIZATION=bearer).status_code == 403
    assert Ticket.objects.count() == 0


def test_the_people_lists_cost_the_same_queries_for_many(
    client, bearer, django_assert_max_num_queries
):
    for _ in range(12):
        ContactFactory()
    client.get("/api/v1/contacts/", **bearer)  # the token's first use is noted once
    for url in ("/api/v1/contacts/", "/api/v1/companies/", "/api/v1/tags/"):
        with django_assert_max_num_queries(4):
            assert client.get(url, **bearer).status_code == 200


def test_a_nul_byte_in_the_search_is_a_400(client, bearer):
    answer = client.get("/api/v1/contacts/?q=a%00", **bearer)
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["q"])
