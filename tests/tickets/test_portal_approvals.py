"""Approvals: the request waits for the customer's yes before its next stage."""

import re

import pytest
from django.core import mail

from tests.factories import TicketFactory
from tickets import workflow
from tickets.models import Channel
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(customer, portal_queue, agent, django_capture_on_commit_callbacks):
    """Carla's request at New, with an approval asked for its next stage (Triage)."""
    ticket = TicketFactory(queue=portal_queue, contact=customer, channel=Channel.PORTAL)
    with django_capture_on_commit_callbacks(execute=True):
        approval = workflow.request_approval(ticket, text="A quote: 300 EUR", by=agent)
    return approval


def link_path() -> str:
    return re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", mail.outbox[-1].body)[0])


def test_the_request_cannot_progress_while_the_approval_waits(asked, agent):
    with pytest.raises(WorkflowError, match="approval waits for"):
        workflow.progress_ticket(asked.ticket, by=agent)


def test_an_approved_request_progresses(asked, agent, customer):
    workflow.decide_approval(asked, approved=True, by=customer.user)
    assert workflow.progress_ticket(asked.ticket, by=agent).stage.name == "Triage"


def test_a_refused_approval_keeps_the_request_where_it_is(asked, agent, customer):
    workflow.decide_approval(asked, approved=False, by=customer.user)
    with pytest.raises(WorkflowError, match="was refused"):
        workflow.progress_ticket(asked.ticket, by=agent)


def test_asking_and_deciding_are_in_the_history(asked, customer):
    workflow.decide_approval(asked, approved=True, by=customer.user)
    events = list(asked.ticket.events.filter(field="approval").values_list("action", "actor"))
    assert events == [
        ("approval_requested", asked.requested_by.pk),
        ("approval_given", customer.user.pk),
    ]


@pytest.mark.parametrize(("text", "message"), [("", "Say what"), ("   ", "Say what")])
def test_an_approval_needs_its_text(customer, portal_queue, agent, text, message):
    ticket = TicketFactory(queue=portal_queue, contact=customer)
    with pytest.raises(WorkflowError, match=message):
        workflow.request_approval(ticket, text=text, by=agent)


def test_an_approval_for_a_stage_already_passed_is_refused(asked, agent, customer):
    workflow.decide_approval(asked, approved=True, by=customer.user)
    workflow.progress_ticket(asked.ticket, by=agent)
    with pytest.raises(WorkflowError, match="not a stage ahead"):
        workflow.request_approval(asked.ticket, text="Again", by=agent, stage=asked.stage)


def test_the_contact_approves_on_the_request_page(customer_client, asked, customer):
    ticket = asked.ticket
    page = customer_client.get(f"/portal/requests/{ticket.number}/").content.decode()
    assert "A quote: 300 EUR" in page
    customer_client.post(
        f"/portal/requests/{ticket.number}/approvals/{asked.pk}/", {"decision": "approve"}
    )
    asked.refresh_from_db()
    assert (asked.approved, asked.decided_by) == (True, customer.user)


def test_a_decision_must_be_approve_or_refuse(customer_client, asked):
    url = f"/portal/requests/{asked.ticket.number}/approvals/{asked.pk}/"
    response = customer_client.post(url, {"decision": "maybe"}, follow=True)
    assert "Approve or refuse." in response.content.decode()
    asked.refresh_from_db()
    assert asked.is_pending


def test_the_mailed_link_decides_once_without_signing_in(client, asked):
    assert mail.outbox[-1].to == [asked.ticket.contact.email]
    link = link_path()
    assert "A quote: 300 EUR" in client.get(link).content.decode()
    client.post(link, {"decision": "refuse"})
    again = client.post(link, {"decision": "approve"}, follow=True)
    assert "decided already" in again.content.decode()
    asked.refresh_from_db()
    assert asked.approved is False


def test_a_forged_approval_link_is_refused(client, asked):
    assert client.get("/portal/approvals/forged:token/").status_code == 400
