"""Every clock of a queue with a business-hours calendar counts open time only."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalation import engine
from tests.escalation.conftest import BusinessCalendarFactory, EscalationLevelFactory
from tests.factories import TicketFactory
from tickets import workflow
from tickets.models import Ticket

OSLO = ZoneInfo("Europe/Oslo")


def oslo(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=OSLO)


@pytest.fixture
def ticket(queue, medium, agent):
    """Opened on Friday 6 March at 16:45 in a queue open 09:00–17:00 on weekdays."""
    queue.calendar = BusinessCalendarFactory()
    queue.save()
    EscalationLevelFactory(priority=medium, alert_level=1, minutes=30)
    return TicketFactory(queue=queue, owner=agent, now=oslo(6, 16, 45))


def test_deadline_alert_and_escalation_skip_the_weekend(ticket):
    assert ticket.next_escalation_at == oslo(9, 9, 15)
    assert ticket.alert_at == oslo(9, 9, 45)
    assert ticket.deadline == oslo(9, 16, 45)


def test_nothing_fires_over_the_weekend_and_everything_fires_on_time_on_monday(ticket):
    assert str(engine.sweep(now=oslo(8, 23))) == "escalated 0, alerted 0, overdue 0, woken 0"
    assert engine.sweep(now=oslo(9, 9, 15)).escalated == 1
    assert engine.sweep(now=oslo(9, 9, 45)).alerted == 1
    assert engine.sweep(now=oslo(9, 16, 45)).overdue == 1


def test_a_pause_counts_business_time_only(ticket, agent):
    workflow.postpone_ticket(ticket, until=oslo(9, 12), by=agent, now=oslo(6, 16, 50))
    assert engine.sweep(now=oslo(9, 12)).woken == 1
    ticket = Ticket.objects.get(pk=ticket.pk)
    # 5 of its 30 minutes were used on Friday; the other 25 run from Monday noon.
    assert ticket.next_escalation_at == oslo(9, 12, 25)
    assert ticket.deadline == oslo(10, 11, 55)  # 475 of 480 minutes left at Monday noon
