"""Two sweeps at once on PostgreSQL: row locks with SKIP LOCKED, so each due request is
escalated exactly once. Real threads, each with its own database connection."""

import threading

import pytest
from django.db import connection

from escalation import engine
from escalation.models import Notification
from tests.escalation.conftest import T0, at
from tests.factories import TicketFactory
from tickets.models import Event, Ticket


def run_at_once(count, function):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(function())
        except Exception as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_due_request_once(postgres, queue, agent, chain):
    tickets = [TicketFactory(queue=queue, owner=agent, now=T0) for _ in range(30)]
    results = run_at_once(2, lambda: engine.sweep(now=at(30), size=4))
    assert sum(result.escalated for result in results) == len(tickets)
    assert Event.objects.filter(action="escalated").count() == len(tickets)
    assert Notification.objects.filter(kind="escalation").count() == len(tickets)
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_wake_each_postponed_request_once(postgres, queue, agent):
    from tickets import workflow

    tickets = [TicketFactory(queue=queue, now=T0) for _ in range(20)]
    for ticket in tickets:
        workflow.postpone_ticket(ticket, until=at(60), by=agent, now=at(1))
    results = run_at_once(2, lambda: engine.sweep(now=at(60), size=3))
    assert sum(result.woken for result in results) == len(tickets)
    assert Event.objects.filter(action="status_changed", new_value="Active").count() == 20
