"""A change an automation makes is recorded with its name, and its cause rides along in
the domain events, so the automation can recognise its own changes."""

import pytest

from tests.factories import PriorityFactory, TicketFactory
from tickets import workflow
from tickets.models import DomainEvent

pytestmark = pytest.mark.django_db


def test_a_change_inside_automated_names_the_automation(agent_client, queue, agent, settings):
    ticket = TicketFactory(queue=queue, by=agent)
    urgent = PriorityFactory(name="Urgent")
    with workflow.automated("Rule “VIP”", rule=7, depth=1):
        workflow.update_ticket(ticket, by=None, priority=urgent)
    event = ticket.events.get(field="priority")
    assert event.via == "Rule “VIP”"
    page = agent_client.get(f"/desk/requests/{ticket.number}/").content.decode()
    assert "Rule “VIP”" in page


def test_the_domain_events_carry_the_cause(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    with workflow.automated("Macro “Refund”", macro=3):
        workflow.assign_ticket(ticket, owner=agent, by=agent)
    assert workflow.current_automation() is None  # the block is over
    # escalation subscribes to OWNER_CHANGED (it tells the new owner), so it is kept.
    told = DomainEvent.objects.get(ticket=ticket, name="owner_changed")
    assert told.payload["cause"] == {"macro": 3}
    assert ticket.events.get(action="assigned").via == "Macro “Refund”"


def test_a_change_outside_automated_has_no_via(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.update_ticket(ticket, by=agent, subject="Printer on fire")
    assert ticket.events.get(field="subject").via == ""
