"""Asking the customer for an approval from the agents' request page."""

import pytest

from tests.factories import TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Approval

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent)


def ask(client, ticket, text="Approve the quote of 240 EUR for the new battery?"):
    return client.post(f"/desk/requests/{ticket.number}/approval/", {"text": text})


def test_an_agent_asks_for_an_approval_and_the_request_waits_for_it(agent_client, ticket):
    response = ask(agent_client, ticket)
    assert response.status_code == 302
    approval = Approval.objects.get(ticket=ticket)
    assert approval.approved is None and approval.stage.name == "Triage"
    page = agent_client.get(f"/desk/requests/{ticket.number}/").content.decode()
    assert "Approvals" in page and "waiting" in page and "240 EUR" in page
    with pytest.raises(workflow.WorkflowError):
        workflow.progress_ticket(ticket, by=approval.requested_by)


def test_an_empty_approval_text_is_an_error_next_to_the_field(agent_client, ticket):
    response = ask(agent_client, ticket, text="  ")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Approval.objects.exists()


def test_an_internal_request_offers_no_approval_and_refuses_one(agent_client, agent, queue):
    internal = TicketFactory(queue=queue, by=agent, channel="internal", contact=None)
    page = agent_client.get(f"/desk/requests/{internal.number}/").content.decode()
    assert "Ask for approval" not in page
    response = ask(agent_client, internal)
    assert "nobody to approve" in response.content.decode()
    assert not Approval.objects.exists()


def test_an_agent_outside_the_queue_gets_404(client, ticket):
    client.force_login(UserFactory())
    assert ask(client, ticket).status_code == 404
    assert not Approval.objects.exists()
