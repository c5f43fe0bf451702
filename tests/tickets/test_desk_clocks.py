"""What the desk shows of the clocks: time spent, escalation, paused deadlines."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import QueuePriorityTimeFactory, TicketFactory
from tickets import workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(queue, agent):
    """A request of the agent's queue whose deadline passed an hour ago."""
    times = QueuePriorityTimeFactory(queue=queue, completion_minutes=60)
    return TicketFactory(
        queue=queue, priority=times.priority, now=timezone.now() - timedelta(hours=2)
    )


def test_the_request_page_shows_time_spent_and_escalation(agent_client, late):
    page = agent_client.get(f"/desk/requests/{late.number}/").content.decode()
    assert "Time spent" in page and "queue 2h 0m" in page
    assert "Escalation" in page and "none yet" in page


def test_an_active_request_past_its_deadline_is_overdue(agent_client, late):
    page = agent_client.get("/desk/requests/?overdue=1").content.decode()
    assert late.number in page
    assert "overdue" in page


def test_a_postponed_request_is_paused_not_overdue(agent_client, agent, late):
    workflow.postpone_ticket(late, until=timezone.now() + timedelta(days=1), by=agent)
    assert late.number not in agent_client.get("/desk/requests/?overdue=1").content.decode()
    page = agent_client.get("/desk/requests/?open=1").content.decode()
    assert late.number in page and "paused" in page


def test_the_list_shows_first_response_and_time_spent(agent_client, agent, late):
    workflow.reply_to_customer(late, by=agent, body="On it.")
    page = agent_client.get("/desk/requests/").content.decode()
    assert "answered in 2h 0m" in page
    assert "Time spent: queue" in page
