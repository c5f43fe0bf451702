"""The benchmark's table: rows with their targets, the machine, the data, and where the
table goes in docs/performance.md (between two markers, the rest of the file kept)."""

import os
import platform
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import django
from django.db import connection

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
SECTION = "## Every figure at once: `make bench`"


@dataclass
class Row:
    """One line of the table. `met` is None when the figure has no target; a row that
    could not be measured gives the reason instead of figures."""

    measurement: str
    median: str = "–"
    p95: str = "–"
    queries: str = "–"
    target: str = "–"
    met: bool | None = None
    not_measured_because: str = ""

    @classmethod
    def not_measured(cls, measurement: str, reason: str, *, target: str = "–") -> "Row":
        return cls(measurement, target=target, not_measured_because=reason)

    def cells(self) -> list[str]:
        if self.not_measured_because:
            reason = f"not measured: {self.not_measured_because}"
            return [self.measurement, reason, "–", "–", self.target, "not measured"]
        met = {True: "yes", False: "**no**", None: "–"}[self.met]
        return [self.measurement, self.median, self.p95, self.queries, self.target, met]


def ms(milliseconds: float) -> str:
    return f"{milliseconds:,.1f} ms"


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| measurement | median | p95 | queries | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, memory, database and load: enough to tell two runs' machines apart."""
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; "
        f"{database_version()}; Python {platform.python_version()}, Django {django.__version__}; "
        f"load average {load} (1, 5, 15 min) at the start; "
        f"a reference Python loop took {reference_loop_ms():,.0f} ms"
    )


def reference_loop_ms() -> float:
    """The best of three runs of a fixed pure-Python loop: the same machine type ran it
    in half the time on another day, so figures of two runs compare only beside it."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(5_000_000):
            total += number
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def database_version() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def section(*, rows: list[Row], machine: str, data: str, command: str, started: datetime) -> str:
    """What goes between the markers: when, where, on what, how, and the table."""
    return "\n".join(
        [
            f"Measured {started:%Y-%m-%d %H:%M %Z} by `{command}`.",
            "",
            f"- Machine: {machine}.",
            f"- Data: {data}.",
            "- Server time: each page handled in-process by Django's test client with "
            "`DEBUG=False` (view, queries, templates; no network), after warm-up runs; "
            "queries: SQL statements of one page view (the page tests bound each count "
            "whatever the number of requests: the issue's constant query count).",
            "",
            markdown_table(rows),
        ]
    )


def write_between_markers(path: Path, text: str) -> None:
    """Put `text` between the markers in `path`, leaving the rest of the file as it is;
    a file without the markers gets them in a new section at its end."""
    block = f"{START}\n{text}\n{END}"
    old = path.read_text() if path.exists() else ""
    start, end = old.find(START), old.find(END)
    if 0 <= start < end:
        new = old[:start] + block + old[end + len(END) :]
    else:
        new = f"{old.rstrip()}\n\n{SECTION}\n\n{block}\n".lstrip()
    path.write_text(new)
