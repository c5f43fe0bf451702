"""`manage.py bench`: every figure in one table, written between the markers of
docs/performance.md (the figures themselves: docs/performance.md)."""

import shutil
from io import StringIO

from django.core.management import call_command
from django.db import connection

from benchmark import data, load, pages, report
from tests.conftest import needs
from tests.factories import TicketFactory
from tickets.models import Ticket

ROWS = [
    "| default list |",
    "| filtered + sorted list |",
    "| request page, 5 messages |",
    "| request page, 50 messages |",
    "| dashboard |",
    "| full-text search, common word “",
    "| full-text search, rare word “",
    "| portal: own requests |",
    "| portal: company's requests |",
    "| escalation sweep, 5 due |",
    "| escalation sweep, none due |",
    "| mail ingestion, one process (",
    "| default list under load: 4 gunicorn workers, wrk 8 connections, 2 s |",
]


def bench(*args) -> str:
    out = StringIO()
    call_command("bench", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_every_figure_is_written_between_the_markers_and_the_rest_is_kept(db, tmp_path):
    performance = tmp_path / "performance.md"
    performance.write_text(f"# Before\n\n{report.START}\nold figures\n{report.END}\n\n# After\n")

    printed = bench(
        "--requests", "60", "--runs", "2", "--warmup", "1", "--search-runs", "1",
        "--due", "5", "--busy-sweeps", "1", "--idle-sweeps", "2", "--mails", "5",
        "--load-seconds", "2", "--output", str(performance),
    )  # fmt: skip

    written = performance.read_text()
    table = written.split(report.START)[1].split(report.END)[0]
    assert written.startswith("# Before\n\n") and written.endswith("\n\n# After\n")
    assert "old figures" not in written and table.strip() in printed
    assert [row for row in ROWS if row not in table] == []
    assert "| escalation sweep, 5 due | " in table and "(but one sweep" not in table
    assert "Data: 60 requests (" in table and "cores" in table
    # The test's data is in its transaction (and on SQLite in this process): no load run.
    load_row = next(line for line in table.splitlines() if "under load" in line)
    assert "| not measured: " in load_row and load_row.endswith("| not measured |")


def test_a_second_run_finds_the_data_and_loads_nothing(db):
    assert data.fill(requests=0, messages_per_request=2, stdout=StringIO()) == 0
    wanted = Ticket.objects.count() + 20  # the demo's requests, and 20 more

    assert data.fill(requests=wanted, messages_per_request=2, stdout=StringIO()) == 20
    assert data.fill(requests=wanted, messages_per_request=2, stdout=StringIO()) == 0
    assert Ticket.objects.count() == wanted


def test_a_file_without_the_markers_gets_them_in_a_section_at_its_end(tmp_path):
    performance = tmp_path / "performance.md"
    performance.write_text("# Performance\n\nHand-made figures.\n")

    report.write_between_markers(performance, "the table")

    assert performance.read_text() == (
        f"# Performance\n\nHand-made figures.\n\n{report.SECTION}\n\n"
        f"{report.START}\nthe table\n{report.END}\n"
    )


def test_a_row_not_measured_says_why_instead_of_passing():
    row = report.Row.not_measured("list under load", "wrk is not installed", target="≥ 200")

    assert row.cells() == [
        "list under load", "not measured: wrk is not installed", "–", "–", "≥ 200", "not measured"
    ]  # fmt: skip


def test_the_list_under_load_is_served_by_gunicorn_to_wrk(postgres, transactional_db, queue):
    needs("wrk (apt-get install wrk)", shutil.which("wrk") is not None)
    for _ in range(3):
        TicketFactory(queue=queue)
    agent = pages.bench_agent()

    run = load.page_throughput(agent, "/desk/requests/", workers=2, connections=2, seconds=2)

    assert run.requests > 0 and run.per_second > 0
    assert (run.failed, run.socket_errors) == (0, 0)
    assert 0 < run.median_ms <= run.p95_ms


def test_without_autovacuum_the_read_tables_are_vacuumed_first(postgres, transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        assert data.vacuum_if_autovacuum_is_off() == (autovacuum == "off")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND last_vacuum IS NOT NULL",
            [data.READ_TABLES],
        )
        assert cursor.fetchone()[0] == (len(data.READ_TABLES) if autovacuum == "off" else 0)


def test_inside_a_transaction_nothing_is_vacuumed(db):
    assert data.vacuum_if_autovacuum_is_off() is False


def test_every_report_page_the_bench_times_answers_for_its_reader(client, queue):
    TicketFactory(queue=queue)
    reader = pages.report_reader(pages.bench_agent())
    client.force_login(reader)
    for name, url in pages.report_pages().items():
        page = client.get(url)
        assert page.status_code == 200, name
        assert "<table" in page.content.decode(), name
