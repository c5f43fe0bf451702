"""The benchmark command works end to end on a small table (figures: docs/performance.md)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

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
