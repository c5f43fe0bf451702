"""The benchmark command works end to end on a small table (figures: docs/performance.md)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tickets.models import Ticket


def test_the_benchmark_sweeps_the_due_requests_and_shows_the_index_it_uses(postgres, db):
    from django.db import connection

    # On sixty rows a sequential scan is cheaper; with it off the plan shows that the
    # selection matches its partial index (on a million rows the planner picks it).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    out = StringIO()
    call_command("bench_escalation", "--requests", "60", "--due", "6", stdout=out)
    text = out.getvalue()
    assert "sweep with 6 due:" in text and "(escalated 6," in text
    assert "sweep with none due:" in text and "(escalated 0," in text
    assert "ticket_escalation_due" in text
    call_command("bench_escalation", "--cleanup", stdout=out)
    assert not Ticket.objects.filter(number__startswith="BENCH-").exists()


def test_the_benchmark_needs_postgresql(monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_escalation", stdout=StringIO())


@pytest.fixture
def pending(queue, agent, chain):
    """Requests loaded long ago: every clock passed, nothing swept, as bulk-loaded data is;
    one of them was postponed until a time that has passed too."""
    from tests.escalation.conftest import T0, at
    from tests.factories import TicketFactory
    from tickets import workflow

    tickets = [TicketFactory(queue=queue, owner=agent, now=T0) for _ in range(5)]
    workflow.postpone_ticket(tickets[0], until=at(600), by=agent, now=at(1))
    return tickets


def test_the_sweep_on_seeded_data_settles_pending_clocks_then_escalates_the_armed_ones(pending):
    from benchmark.management.commands.bench_escalation import seeded_sweeps

    sweeps = seeded_sweeps(due=2, busy_runs=2, idle_runs=3)

    assert sweeps.armed == 2
    busy, idle = (
        "escalated 2, alerted 0, overdue 0, woken 0",
        "escalated 0, alerted 0, overdue 0, woken 0",
    )
    assert [str(s.result) for s in sweeps.busy] == [busy, busy]
    assert {str(s.result) for s in sweeps.idle} == {idle}
    assert sweeps.settled >= 1 + 4 * 3  # woken, and the others' escalation, alert and deadline
    tickets = Ticket.objects.filter(pk__in=[t.pk for t in pending])
    assert tickets.filter(escalation_level=1).count() == 2  # armed: the chain's first level
    assert not tickets.exclude(base_status="active").exists()
    now = timezone.now()
    for due in ("due_for_escalation", "due_for_alert", "due_for_deadline", "due_to_wake"):
        assert not getattr(Ticket.objects, due)(now).exists(), due
