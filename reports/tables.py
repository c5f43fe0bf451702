"""Each report as a table: a title, its columns and its rows, the same for the page, the
CSV and the XLSX (reports.queries counts; this only lays the counts out)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from billing import money
from reports import queries


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    more: bool = False  # rows were asked for up to a limit, and there are more

    def html_rows(self, limit: int) -> str:
        """The first `limit` rows as the page's table rows, each cell shown as a template
        would ({{ cell }}, "—" for none). Written here: 200 rows of cells cost 40 ms as
        template loops."""
        rows = (
            "<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows[:limit]
        )
        return mark_safe("".join(rows))  # nosec B308 B703: every cell is escaped


def _cell(value) -> str:
    return "—" if value is None else conditional_escape(localize(value))


def _money(amounts: dict) -> str:
    if not amounts:  # most rows of a summary: nothing charged
        return ""
    return "; ".join(money.shown(amount, currency) for currency, amount in sorted(amounts.items()))


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def insights(tickets, period, by, now, *, limit=None) -> Table:
    buckets = queries.created_vs_closed(tickets, period, by=by, tz=timezone.get_current_timezone())
    return Table(
        f"Created and closed per {by}",
        [by.capitalize(), "Created", "Closed"],
        [[b.starts, b.created, b.closed] for b in buckets],
    )


def analysis(tickets, period, by, now, *, limit=None) -> Table:
    rows = queries.analysis_by_queue(tickets, period, now=now)
    return Table(
        "Requests by queue and outcome (created in the period)",
        ["Queue", "Requests", "Resolved", "Unresolved", "Merged", "Deleted", "Open",
         "First reply median (h)", "First reply p90 (h)", "Close median (h)", "Close p90 (h)",
         "Alert met", "Alert breached", "Completion met", "Completion breached", "Charges"],
        [[r.queue, r.total, r.resolved, r.unresolved, r.merged, r.deleted, r.open,
          _hours(r.to_first_reply.median), _hours(r.to_first_reply.p90),
          _hours(r.to_close.median), _hours(r.to_close.p90), r.alert_met, r.alert_breached,
          r.completion_met, r.completion_breached, _money(r.charges)] for r in rows],
    )  # fmt: skip


def _summary(title: str, rows, limit: int | None) -> Table:
    return Table(
        title,
        ["Name", "Open", "Closed", "Resolved", "Resolved rate", "Charges", "Invoiced"],
        [[r.name, r.open, r.closed, r.resolved, _rate(r.resolved_rate), _money(r.charges),
          _money(r.invoiced)] for r in rows[:limit]],
        more=limit is not None and len(rows) > limit,
    )  # fmt: skip


# A summary has a row per contact (tens of thousands in a year): the page asks for its
# first rows only, one more to know there are more; the exports ask for all.
def contacts(tickets, period, by, now, *, limit=None) -> Table:
    rows = queries.summary_by_contact(tickets, period, limit=limit and limit + 1)
    return _summary("Summary per contact", rows, limit)


def companies(tickets, period, by, now, *, limit=None) -> Table:
    rows = queries.summary_by_company(tickets, period, limit=limit and limit + 1)
    return _summary("Summary per company", rows, limit)


def agents(tickets, period, by, now, *, limit=None) -> Table:
    rows = queries.agent_performance(tickets, period)
    return Table(
        "Agent performance (requests closed in the period)",
        ["Agent", "Handled", "Replies", "Time units", "In the queue (h)", "Internal (h)",
         "External (h)"],
        [[r.agent, r.handled, r.replies, r.time_units, _hours(r.queue_seconds),
          _hours(r.internal_seconds), _hours(r.external_seconds)] for r in rows],
    )  # fmt: skip


def backlog(tickets, period, by, now, *, limit=None) -> Table:
    rows = queries.backlog_ageing(tickets, now)
    return Table(
        "Open requests by age (now)",
        ["Queue", "Under 1 day", "1–3 days", "3–7 days", "7–30 days", "Over 30 days", "Total"],
        [[r.queue, r.under_1_day, r.days_1_to_3, r.days_3_to_7, r.days_7_to_30,
          r.over_30_days, r.total] for r in rows],
    )  # fmt: skip


# (requests, period, grouping, now, limit=at most so many rows, None: all) -> Table
Builder = Callable[..., Table]
REPORTS: dict[str, tuple[str, Builder]] = {
    "insights": ("Insights", insights),
    "analysis": ("Analysis", analysis),
    "contacts": ("Summary: contacts", contacts),
    "companies": ("Summary: companies", companies),
    "agents": ("Agents", agents),
    "backlog": ("Backlog", backlog),
}
