"""Every figure of the performance issue in one table, printed and written into
docs/performance.md between its markers. `make bench` runs it against a database of a
million requests; see the README."""

import shlex
import sys
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from benchmark import data, load, pages, report
from benchmark.management.commands import bench_escalation, bench_mail
from benchmark.report import Row, ms

PAGE_TARGET_MS = 100
API_TARGET_MS = 50  # issue 15, for the list; one request should be no slower
REPORT_TARGET_MS = 500  # issue 17, every report over a year
SEARCH_TARGET_MS = 300
BUSY_SWEEP_TARGET_MS = 2000
IDLE_SWEEP_TARGET_MS = 50
LIST_TARGET_PER_SECOND = 200
MAIL_TARGET_PER_SECOND = 100
MEASUREMENTS = ("pages", "search", "portal", "sweep", "mail", "load", "api", "reports")


class Command(BaseCommand):
    help = (
        "Median and p95 server time and queries of the main pages, search, list throughput "
        "under load, mail ingestion, the escalation sweep and the API's reads: one table, "
        "also written to docs/performance.md."
    )

    def add_arguments(self, parser):
        data_size = parser.add_argument_group("data")
        data_size.add_argument(
            "--requests",
            type=int,
            default=0,
            help="Bulk-load requests until there are this many (default: measure what is there).",
        )
        data_size.add_argument("--messages-per-request", type=int, default=5)
        timing = parser.add_argument_group("pages")
        timing.add_argument("--runs", type=int, default=30, help="Timed runs per page.")
        timing.add_argument("--warmup", type=int, default=3)
        timing.add_argument("--search-runs", type=int, default=10, help="Timed runs per search.")
        timing.add_argument("--report-runs", type=int, default=5, help="Timed runs per report.")
        timing.add_argument(
            "--common-word", help="Default: the commonest of seed_bulk's common words."
        )
        timing.add_argument("--rare-word", help="Default: one of seed_bulk's rare tokens.")
        clocks = parser.add_argument_group("escalation sweep and mail")
        clocks.add_argument("--due", type=int, default=1_000)
        clocks.add_argument("--busy-sweeps", type=int, default=3)
        clocks.add_argument("--idle-sweeps", type=int, default=7)
        clocks.add_argument("--mails", type=int, default=1_000, help="Mails to take in.")
        under_load = parser.add_argument_group("list under load (PostgreSQL and wrk)")
        under_load.add_argument("--workers", type=int, default=4, help="gunicorn workers.")
        under_load.add_argument("--connections", type=int, default=8, help="wrk connections.")
        under_load.add_argument("--load-seconds", type=int, default=20)
        parser.add_argument(
            "--only",
            action="append",
            choices=MEASUREMENTS,
            help="Measure only this (repeatable): the table is printed and not written, so a "
            "part does not replace the whole.",
        )
        parser.add_argument(
            "--output", type=Path, default=Path(settings.BASE_DIR) / "docs" / "performance.md"
        )
        parser.add_argument(
            "--command-line", help="How the run was started, for the table (make bench sets it)."
        )

    def handle(self, *args, **options):
        started = timezone.now()
        if data.create_database_if_missing():
            self.progress(f"created the database {connection.settings_dict['NAME']}")
        loaded = data.fill(
            requests=options["requests"],
            messages_per_request=options["messages_per_request"],
            stdout=self.stdout,
        )
        self.progress(f"bulk-loaded {loaded:,} requests" if loaded else "no loading needed")
        if data.vacuum_if_autovacuum_is_off():
            self.progress("vacuumed the tables the pages read: autovacuum is off on this server")
        machine, size = report.machine(), data.size()
        self.progress(f"{size}; {machine}")
        agent = pages.bench_agent()
        measurements = {
            "pages": lambda: self.page_rows(agent, options),
            "search": lambda: self.search_rows(agent, options),
            "portal": lambda: self.portal_rows(options),
            "sweep": lambda: self.sweep_rows(options),
            "mail": lambda: [self.mail_row(options)],
            "load": lambda: [self.desk_load_row(agent, options)],
            "api": lambda: self.api_rows(agent, options),
            "reports": lambda: self.report_rows(agent, options),
        }
        only = options["only"] or MEASUREMENTS
        rows = [row for name in MEASUREMENTS if name in only for row in measurements[name]()]
        text = report.section(
            rows=rows,
            machine=machine,
            data=size,
            command=options["command_line"] or command_line(),
            started=started,
        )
        self.stdout.write(text)
        if options["only"]:
            self.progress("not written: only part of the figures was measured")
            return
        report.write_between_markers(options["output"], text)
        self.progress(f"written to {options['output']}")

    def progress(self, text: str) -> None:
        self.stderr.write(f"bench: {text}")

    def page_row(self, name, client, url, *, runs, warmup, target_ms=PAGE_TARGET_MS) -> Row:
        self.progress(f"timing {name}: {url}")
        timing = pages.measure(client, url, runs=runs, warmup=warmup)
        return Row(
            name,
            ms(timing.median_ms),
            ms(timing.p95_ms),
            str(timing.queries),
            f"p95 < {target_ms} ms",
            timing.p95_ms < target_ms,
        )

    def page_rows(self, agent: AbstractBaseUser, options) -> list[Row]:
        client = pages.client_for(agent)
        runs, warmup = options["runs"], options["warmup"]
        return [
            self.page_row(name, client, url, runs=runs, warmup=warmup)
            for name, url in pages.desk_pages(agent).items()
        ]

    def search_rows(self, agent: AbstractBaseUser, options) -> list[Row]:
        client = pages.client_for(agent)
        common, rare = pages.search_words(options["common_word"], options["rare_word"])
        words = {"common": common, "rare": rare}
        rows = []
        for kind, word in words.items():
            found = pages.requests_matching(agent, word)
            rows.append(
                self.page_row(
                    f"full-text search, {kind} word “{word}” ({found:,} requests)",
                    client,
                    pages.search_page(word),
                    runs=options["search_runs"],
                    warmup=1,
                    target_ms=SEARCH_TARGET_MS,
                )
            )
        return rows

    def portal_rows(self, options) -> list[Row]:
        contact = pages.portal_contact()
        client = pages.client_for(contact.user)
        return [
            self.page_row(name, client, url, runs=options["runs"], warmup=options["warmup"])
            for name, url in pages.PORTAL_PAGES.items()
        ]

    def api_rows(self, agent: AbstractBaseUser, options) -> list[Row]:
        runs, warmup = options["runs"], options["warmup"]
        with pages.api_token(agent) as token:
            client = pages.api_client(token)
            rows = [
                self.page_row(name, client, url, runs=runs, warmup=warmup, target_ms=API_TARGET_MS)
                for name, url in pages.api_pages(client).items()
            ]
            throughput = partial(load.api_throughput, token, pages.API_LIST)
            rows.append(self.load_row("API list", throughput, options))
        return rows

    def report_rows(self, agent: AbstractBaseUser, options) -> list[Row]:
        client = pages.client_for(pages.report_reader(agent))
        return [
            self.page_row(
                name,
                client,
                url,
                runs=options["report_runs"],
                warmup=1,
                target_ms=REPORT_TARGET_MS,
            )  # fmt: skip
            for name, url in pages.report_pages().items()
        ]

    def sweep_rows(self, options) -> list[Row]:
        self.progress(f"timing the escalation sweep with {options['due']:,} due and none due")
        sweeps = bench_escalation.seeded_sweeps(
            due=options["due"], busy_runs=options["busy_sweeps"], idle_runs=options["idle_sweeps"]
        )
        self.progress(f"settled {sweeps.settled:,} pending clocks before timing")
        busy, idle = sweeps.busy, sweeps.idle
        return [
            Row(
                f"escalation sweep, {sweeps.armed:,} due" + unexpected(busy, sweeps.armed),
                ms(bench_escalation.median_ms(busy)),
                f"{ms(max(s.ms for s in busy))} (max of {len(busy)})",
                str(busy[-1].queries),
                "median < 2 s",
                bench_escalation.median_ms(busy) < BUSY_SWEEP_TARGET_MS,
            ),
            Row(
                "escalation sweep, none due" + unexpected(idle, 0),
                ms(bench_escalation.median_ms(idle)),
                f"{ms(max(s.ms for s in idle))} (max of {len(idle)})",
                str(idle[-1].queries),
                f"median < {IDLE_SWEEP_TARGET_MS} ms",
                bench_escalation.median_ms(idle) < IDLE_SWEEP_TARGET_MS,
            ),
        ]

    def mail_row(self, options) -> Row:
        self.progress(f"taking in {options['mails']:,} mails")
        taken = bench_mail.ingestion(options["mails"])
        outcomes = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(taken.outcomes.items()))
        return Row(
            f"mail ingestion, one process ({outcomes})",
            f"{taken.per_second:,.1f} messages/s",
            queries=f"{taken.queries / max(taken.mails, 1):.0f} a mail",
            target=f"≥ {MAIL_TARGET_PER_SECOND} messages/s",
            met=taken.per_second >= MAIL_TARGET_PER_SECOND,
        )

    def desk_load_row(self, agent: AbstractBaseUser, options) -> Row:
        throughput = partial(load.page_throughput, agent, "/desk/requests/")
        return self.load_row("default list", throughput, options)

    def load_row(self, what: str, throughput, options) -> Row:
        """`throughput(workers=, connections=, seconds=)` → load.Load, as a row."""
        workers, connections = options["workers"], options["connections"]
        seconds = options["load_seconds"]
        name = (
            f"{what} under load: {workers} gunicorn workers, "
            f"wrk {connections} connections, {seconds} s"
        )
        target = f"≥ {LIST_TARGET_PER_SECOND} requests/s, no errors"
        reason = load.why_not_measurable()
        if reason:
            self.progress(f"not measuring the {what} under load: {reason}")
            return Row.not_measured(name, reason, target=target)
        self.progress(f"loading the {what} for {seconds} s")
        run = throughput(workers=workers, connections=connections, seconds=seconds)
        errors = run.failed + run.socket_errors
        if errors:
            name += f" ({run.failed:,} answers ≥ 400, {run.socket_errors:,} socket errors)"
        return Row(
            name,
            f"{run.per_second:,.1f} requests/s; latency {ms(run.median_ms)}",
            f"latency {ms(run.p95_ms)}",
            target=target,
            met=run.per_second >= LIST_TARGET_PER_SECOND and not errors,
        )


def unexpected(sweeps: list, escalated: int) -> str:
    """What a sweep did besides escalating `escalated` requests, if anything: it should
    have done nothing else."""
    for sweep in sweeps:
        result = sweep.result
        if (result.escalated, result.alerted, result.overdue, result.woken) != (escalated, 0, 0, 0):
            return f" (but one sweep: {result})"
    return ""


def command_line() -> str:
    return "python manage.py " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])
