"""Approvals asked of agents (an agent, or any member of a team) instead of the contact:
decided on the request page, by them only, and never shown or mailed to the customer."""

import pytest

from tests.factories import TeamFactory, TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Approval, Ticket
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(queue):
    manager = UserFactory(first_name="Mona", last_name="Manager")
    queue.members.add(manager)
    return manager


def test_an_approval_asked_of_an_agent_holds_progress_until_they_approve(
    client, queue, agent, manager
):
    ticket = TicketFactory(queue=queue, by=agent)
    approval = workflow.request_approval(
        ticket, text="Replace the laptop", approver=manager, by=agent
    )
    assert approval.asks == Approval.Asks.AGENTS
    with pytest.raises(WorkflowError, match="approval waits for"):
        workflow.progress_ticket(ticket, by=agent)
    client.force_login(manager)
    page = client.get(f"/desk/requests/{ticket.number}/").content.decode()
    assert "asks Mona Manager" in page and "Approve" in page
    client.post(f"/desk/requests/{ticket.number}/approvals/{approval.pk}/", {"decision": "approve"})
    approval.refresh_from_db()
    assert (approval.approved, approval.decided_by) == (True, manager)
    workflow.progress_ticket(Ticket.objects.get(pk=ticket.pk), by=agent)


def test_someone_else_cannot_decide_it(agent_client, queue, agent, manager):
    ticket = TicketFactory(queue=queue, by=agent)
    approval = workflow.request_approval(
        ticket, text="Replace the laptop", approver=manager, by=agent
    )
    page = agent_client.get(f"/desk/requests/{ticket.number}/").content.decode()
    assert 'value="approve"' not in page
    answer = agent_client.post(
        f"/desk/requests/{ticket.number}/approvals/{approval.pk}/",
        {"decision": "approve"},
        follow=True,
    )
    assert "This approval is for Mona Manager to decide." in answer.content.decode()
    approval.refresh_from_db()
    assert approval.is_pending


def test_any_member_of_the_team_decides(queue, agent, manager):
    team = TeamFactory(name="Managers")
    manager.groups.add(team)
    ticket = TicketFactory(queue=queue, by=agent, contact=None, channel="internal")
    # An internal request has no customer, but a team can approve it.
    approval = workflow.request_approval(ticket, text="Budget 2,000 EUR", team=team, by=agent)
    with pytest.raises(WorkflowError):
        workflow.decide_approval(approval, approved=True, by=agent)
    workflow.decide_approval(approval, approved=False, by=manager)
    approval.refresh_from_db()
    assert approval.approved is False


def test_the_customer_neither_sees_nor_gets_mail_of_an_agents_approval(
    queue, agent, manager, committed, mailoutbox
):
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.request_approval(ticket, text="Internal sign-off", approver=manager, by=agent)
    assert not mailoutbox
    assert not ticket.approvals.for_customer().exists()


def test_a_non_agent_cannot_be_the_approver(queue, agent):
    from tests.factories import PortalContactFactory

    customer = PortalContactFactory()
    ticket = TicketFactory(queue=queue, by=agent)
    with pytest.raises(WorkflowError, match="is not an agent"):
        workflow.request_approval(ticket, text="Yes?", approver=customer.user, by=agent)
    assert not ticket.approvals.exists()


def test_a_bad_decision_is_refused(agent_client, queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    approval = workflow.request_approval(ticket, text="Yes?", approver=agent, by=agent)
    answer = agent_client.post(
        f"/desk/requests/{ticket.number}/approvals/{approval.pk}/",
        {"decision": "maybe"},
        follow=True,
    )
    assert "Approve or refuse." in answer.content.decode()
    approval.refresh_from_db()
    assert approval.is_pending
