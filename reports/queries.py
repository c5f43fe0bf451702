"""The numbers behind the reports (issue 17), for the desk's pages, the exports and the
scheduled mails alike.

Every function takes the requests the reader may see (`tickets.access.visible_tickets`)
and a period, start inclusive and end exclusive, both aware; it counts in the database
with GROUP BY and answers with plain dataclasses. Who is counted:

- Insights count what happened in the period: requests created, requests closed.
- Analysis and Summary count the requests *created* in the period, and the charges and
  invoices of those requests, so the money and the counts are of the same requests.
- Agent performance counts requests closed in the period (their time counters are final
  then) and replies written in the period.
- Backlog ageing counts what is open at `now`.

Medians and the 90th percentile: PostgreSQL computes them in the GROUP BY with
`percentile_cont`. SQLite has no such aggregate; there the seconds are computed in SQL
and the percentiles in Python from at most `SQLITE_PERCENTILE_LIMIT` values (the embedded
database serves small installations; past the limit the report asks for a shorter
period instead of reading without end).
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from billing import money
from billing.models import Charge, Invoice
from reports.sql import Hundred, Percentile, SecondsBetween, percentile
from tickets.models import Event, Message, QueuePriorityTime, Status, Ticket

Period = tuple[datetime, datetime]
Grouping = Literal["day", "week", "month"]
Money = dict[str, Decimal]  # currency → amount: a request's charges share one, a report not

MAX_YEARS = 5
SQLITE_PERCENTILE_LIMIT = 100_000
OPEN = [Status.Base.ACTIVE, Status.Base.POSTPONED]
# Merged and deleted requests were never worked to an end: no service level applies.
WORKED = [*OPEN, Status.Base.CLOSED]


def check_period(start: datetime | None, end: datetime | None, *, max_years: int = MAX_YEARS):
    """The period as given, or a ValueError saying what to change. The upper bound keeps
    a report from reading the whole history in one go."""
    if start is None or end is None:
        raise ValueError("Choose both a start and an end date.")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("The period needs dates with a time zone.")
    if end == start:
        raise ValueError("The period is empty: choose an end date after the start date.")
    if end < start:
        raise ValueError(
            f"The period ends ({end:%Y-%m-%d}) before it starts ({start:%Y-%m-%d}): "
            "swap the dates or choose a later end date."
        )
    if end > start + relativedelta(years=max_years):
        raise ValueError(
            f"The period is longer than {max_years} years: choose a shorter one "
            f"(at most {max_years} years from the start date)."
        )
    return start, end


def _created_in(tickets: QuerySet[Ticket], period: Period) -> QuerySet[Ticket]:
    start, end = check_period(*period)
    # order_by(): a caller's ordering would otherwise join the GROUP BY.
    return tickets.filter(created_at__gte=start, created_at__lt=end).order_by()


# Insights: created vs closed -------------------------------------------------------------


TRUNCATE = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class Bucket:
    starts: date  # the local day, the Monday of the week, the first of the month
    created: int
    closed: int


def created_vs_closed(
    tickets: QuerySet[Ticket], period: Period, *, by: Grouping = "day", tz: tzinfo
) -> list[Bucket]:
    """Requests created and requests closed per day, week or month of the time zone
    `tz`; every bucket of the period is there, empty ones with zeros."""
    start, end = check_period(*period)
    if by not in TRUNCATE:
        raise ValueError(f"Group by day, week or month, not “{by}”.")
    created = _count_by_bucket(tickets, "created_at", (start, end), by, tz)
    closed = _count_by_bucket(tickets, "closed_at", (start, end), by, tz)
    return [
        Bucket(starts=day, created=created.get(day, 0), closed=closed.get(day, 0))
        for day in _bucket_starts(start, end, by, tz)
    ]


def _count_by_bucket(
    tickets: QuerySet[Ticket], moment: str, period: Period, by: Grouping, tz: tzinfo
) -> dict[date, int]:
    start, end = period
    rows = (
        tickets.filter(**{f"{moment}__gte": start, f"{moment}__lt": end})
        .order_by()
        .annotate(bucket=TRUNCATE[by](moment, tzinfo=tz))
        .values("bucket")
        # "*", not the id: the id is not in the index the count reads (ticket_created)
        .annotate(count=Count("*"))
    )
    return {row["bucket"].astimezone(tz).date(): row["count"] for row in rows}


def _bucket_starts(start: datetime, end: datetime, by: Grouping, tz: tzinfo) -> Iterator[date]:
    day = _bucket_of(start.astimezone(tz).date(), by)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    step = {"day": relativedelta(days=1), "week": relativedelta(weeks=1)}.get(
        by, relativedelta(months=1)
    )
    while day <= last:
        yield day
        day += step


def _bucket_of(day: date, by: Grouping) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday, as TruncWeek
    if by == "month":
        return day.replace(day=1)
    return day


# Analysis: per queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Seconds: the median and the 90th percentile (None when nothing was measured)."""

    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class QueueAnalysis:
    queue_id: int
    queue: str
    total: int
    resolved: int
    unresolved: int
    merged: int
    deleted: int
    open: int
    alert_met: int
    alert_breached: int
    completion_met: int
    completion_breached: int
    to_first_reply: Spread = field(default_factory=Spread)
    to_close: Spread = field(default_factory=Spread)
    charges: Money = field(default_factory=dict)


def analysis_by_queue(
    tickets: QuerySet[Ticket], period: Period, *, now: datetime | None = None
) -> list[QueueAnalysis]:
    """Per queue, the requests created in the period: their final outcome, how fast they
    were answered and closed, whether they kept their alert and completion times (as of
    `now`), and what was charged on them."""
    created = _created_in(tickets, period)
    on_postgres = connection.vendor == "postgresql"
    rows = list(
        created.values("queue", "queue__name")
        .annotate(
            **_outcomes(),
            **_service_levels(now or timezone.now()),
            **(_percentiles() if on_postgres else {}),
        )
        .order_by("queue__name")
    )
    spreads = _spreads_of_rows(rows) if on_postgres else _spreads_in_python(created)
    charges = _charges_by(created, "ticket__queue")
    analyses = []
    for row in rows:
        queue_id = row.pop("queue")
        analyses.append(
            QueueAnalysis(
                queue_id=queue_id,
                queue=row.pop("queue__name"),
                resolved=row.pop("resolved_count"),
                charges=charges.get(queue_id, {}),
                **spreads.get(queue_id, {}),
                **row,
            )
        )
    return analyses


def _outcomes() -> dict:
    closed = Q(base_status=Status.Base.CLOSED)
    return {
        "total": Count("pk"),
        # Not named "resolved": later filters on the field would read the count instead.
        "resolved_count": Count("pk", filter=closed & Q(resolved=True)),
        "unresolved": Count("pk", filter=closed & Q(resolved=False)),
        "merged": Count("pk", filter=Q(base_status=Status.Base.MERGED)),
        "deleted": Count("pk", filter=Q(base_status=Status.Base.DELETED)),
        "open": Count("pk", filter=Q(base_status__in=OPEN)),
    }


def _has_alert_time() -> Q | None:
    """The requests whose queue and priority set an alert time. The pairs are a handful of
    configuration rows, read once: as an EXISTS they were probed for each of a year's 500k
    requests (1.4 s of a 1.2–2 s analysis at a million)."""
    pairs = defaultdict(list)
    for queue_id, priority_id in QueuePriorityTime.objects.filter(
        alert_minutes__isnull=False
    ).values_list("queue_id", "priority_id"):
        pairs[queue_id].append(priority_id)
    either = None
    for queue_id, priorities in pairs.items():
        pair = Q(queue_id=queue_id, priority_id__in=priorities)
        either = pair if either is None else either | pair
    return either  # None: no queue sets an alert time


def _service_levels(now: datetime) -> dict:
    """Alert time: breached when the sweep raised the alert or the request is still New
    past it; kept when the request left New (alert_at cleared) unalerted. Completion:
    kept when closed by the deadline; breached when closed after it, or open and flagged
    overdue or active past it (TicketQuerySet.overdue). Requests still within their
    times are neither."""
    worked = Q(base_status__in=WORKED)
    # Leaving the New stage clears alert_at and alerted_at (they belong to the New stage
    # only), so the alert's lasting trace is its "alerted" history line. An IN list of
    # them, not an EXISTS for each request: PostgreSQL hashes the list once (52k of 13M
    # events at a million requests) instead of probing the index 500k times.
    was_alerted = Q(pk__in=Event.objects.filter(action="alerted").values("ticket_id"))
    alert_breached = was_alerted | Q(alert_at__lte=now)
    has_deadline = Q(deadline__isnull=False)
    late_open = Q(base_status__in=OPEN) & (
        Q(overdue_flagged_at__isnull=False) | Q(base_status=Status.Base.ACTIVE, deadline__lt=now)
    )
    has_alert_time = _has_alert_time()
    return {
        "alert_met": Value(0)
        if has_alert_time is None
        else Count(
            "pk", filter=worked & has_alert_time & Q(alert_at__isnull=True) & ~alert_breached
        ),
        "alert_breached": Count("pk", filter=worked & alert_breached),
        "completion_met": Count(
            "pk", filter=worked & has_deadline & Q(closed_at__lte=F("deadline"))
        ),
        "completion_breached": Count(
            "pk", filter=worked & has_deadline & (Q(closed_at__gt=F("deadline")) | late_open)
        ),
    }


SPREADS = {
    "to_first_reply": SecondsBetween("created_at", "replied_at"),
    "to_close": SecondsBetween("created_at", "closed_at"),
}
FRACTIONS = {"median": 0.5, "p90": 0.9}


def _percentiles() -> dict:
    return {
        f"{name}_{label}": Percentile(seconds, fraction)
        for name, seconds in SPREADS.items()
        for label, fraction in FRACTIONS.items()
    }


def _spreads_of_rows(rows: list[dict]) -> dict[int, dict[str, Spread]]:
    """Take PostgreSQL's percentiles out of the rows, as Spreads by queue."""
    return {
        row["queue"]: {
            name: Spread(**{label: row.pop(f"{name}_{label}") for label in FRACTIONS})
            for name in SPREADS
        }
        for row in rows
    }


def _spreads_in_python(created: QuerySet[Ticket]) -> dict[int, dict[str, Spread]]:
    """SQLite: the seconds from SQL, the percentiles from them, bounded."""
    spreads: dict[int, dict[str, Spread]] = defaultdict(dict)
    for name, seconds in SPREADS.items():
        pairs = list(
            created.annotate(seconds=seconds)
            .filter(seconds__isnull=False)
            .values_list("queue", "seconds")[: SQLITE_PERCENTILE_LIMIT + 1]
        )
        if len(pairs) > SQLITE_PERCENTILE_LIMIT:
            raise ValueError(
                f"More than {SQLITE_PERCENTILE_LIMIT:,} requests to measure: choose a "
                "shorter period (or run the helpdesk on PostgreSQL)."
            )
        by_queue: dict[int, list[float]] = defaultdict(list)
        for queue_id, value in pairs:
            by_queue[queue_id].append(round(value, 3))  # julianday's float noise
        for queue_id, values in by_queue.items():
            values.sort()
            spreads[queue_id][name] = Spread(
                **{label: percentile(values, f) for label, f in FRACTIONS.items()}
            )
    return spreads


# Money ----------------------------------------------------------------------------------


def _charges_by(tickets: QuerySet[Ticket], key: str) -> dict[object, Money]:
    """The net of the requests' charges (quantity × unit price less the discount, before
    tax), summed per `key` and currency, rounded to the currency's minor unit once, on
    the total. (An invoice rounds each line, so it may differ by a cent per line.)"""
    net = ExpressionWrapper(
        F("quantity") * F("unit_price") * (Hundred() - F("discount_percent")) / Hundred(),
        output_field=DecimalField(max_digits=24, decimal_places=4),
    )
    rows = (
        Charge.objects.filter(ticket__in=tickets.values("pk"))
        .order_by()
        .values(key, "currency")
        .annotate(amount=Sum(net))
    )
    return _by_key(rows, key)


def _invoiced_by(tickets: QuerySet[Ticket], key: str) -> dict[object, Money]:
    """The totals of the requests' invoices (tax included), less those a credit note
    cancelled."""
    rows = (
        Invoice.objects.filter(ticket__in=tickets.values("pk"), credit_note__isnull=True)
        .order_by()
        .values(key, "currency")
        .annotate(amount=Sum("total"))
    )
    return _by_key(rows, key)


def _by_key(rows, key: str) -> dict[object, Money]:
    found: dict[object, Money] = defaultdict(dict)
    for row in rows:
        found[row[key]][row["currency"]] = money.rounded(row["amount"], row["currency"])
    return found


# Summary: per contact, per company --------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One contact's or company's requests created in the period. `id` None: internal
    requests (no contact) or contacts of no company."""

    id: int | None
    name: str
    open: int
    closed: int
    resolved: int
    charges: Money = field(default_factory=dict)
    invoiced: Money = field(default_factory=dict)

    @property
    def resolved_rate(self) -> float | None:
        """The share of the closed requests that were resolved."""
        return self.resolved / self.closed if self.closed else None


def summary_by_contact(
    tickets: QuerySet[Ticket], period: Period, *, limit: int | None = None
) -> list[Summary]:
    name = Coalesce(
        NullIf(Min("contact__name"), Value("")), Min("contact__email"), output_field=CharField()
    )
    return _summary_by(tickets, period, key="contact", name=name, limit=limit)


def summary_by_company(
    tickets: QuerySet[Ticket], period: Period, *, limit: int | None = None
) -> list[Summary]:
    name = Min("contact__company__name")
    return _summary_by(tickets, period, key="contact__company", name=name, limit=limit)


def _summary_by(
    tickets: QuerySet[Ticket], period: Period, *, key: str, name, limit: int | None
) -> list[Summary]:
    """Grouped by `key` alone, its name taken as an aggregate (one per group anyway):
    grouping by the names too sorted a year's 500k requests joined to their contacts on
    disk (1.9 s at a million; hashed by the id, 0.8 s). Sorted by name, the requests of
    no contact (or no company) last; the first `limit` only, and their money only."""
    created = _created_in(tickets, period)
    closed = Q(base_status=Status.Base.CLOSED)
    nobody = ExpressionWrapper(Q(**{f"{key}__isnull": True}), output_field=BooleanField())
    rows = list(
        created.values(key)
        .annotate(
            name=name,
            open=Count("pk", filter=Q(base_status__in=OPEN)),
            closed=Count("pk", filter=closed),
            resolved_count=Count("pk", filter=closed & Q(resolved=True)),
        )
        .order_by(nobody, "name", key)[:limit]
    )
    if limit is not None:
        keys = [row[key] for row in rows]
        shown = Q(**{f"{key}__in": [k for k in keys if k is not None]})
        created = created.filter(shown | Q(**{f"{key}__isnull": True}) if None in keys else shown)
    charges = _charges_by(created, f"ticket__{key}")
    invoiced = _invoiced_by(created, f"ticket__{key}")
    return [
        Summary(
            id=row[key],
            name=row["name"] or "",
            open=row["open"],
            closed=row["closed"],
            resolved=row["resolved_count"],
            charges=charges.get(row[key], {}),
            invoiced=invoiced.get(row[key], {}),
        )
        for row in rows
    ]


# Agent performance ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentPerformance:
    agent_id: int
    agent: str
    handled: int = 0
    replies: int = 0
    time_units: int = 0
    queue_seconds: int = 0
    internal_seconds: int = 0
    external_seconds: int = 0


def agent_performance(tickets: QuerySet[Ticket], period: Period) -> list[AgentPerformance]:
    """Per owner: the requests closed in the period (`handled`) with the sums of their
    time counters; the emails the agent sent customers in the period (`replies`;
    automatic mail and mail to outside parties are not replies) and the time units of
    all the articles they wrote in it (replies, notes, calls)."""
    start, end = check_period(*period)
    counts: dict[int, dict] = defaultdict(dict)
    handled = (
        tickets.filter(closed_at__gte=start, closed_at__lt=end, owner__isnull=False)
        .order_by()
        .values("owner")
        .annotate(
            handled=Count("pk"),
            queue_seconds=Sum("queue_seconds"),
            internal_seconds=Sum("internal_seconds"),
            external_seconds=Sum("external_seconds"),
        )
    )
    for row in handled:
        counts[row.pop("owner")].update(row)
    reply = Q(kind=Message.Kind.EMAIL, direction=Message.Direction.OUTBOUND, is_external=False)
    written = (
        Message.objects.filter(
            ticket__in=tickets.values("pk"),
            author__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .order_by()
        .values("author")
        # counting created_at, not the id: the index (message_by_agents) holds the one
        .annotate(replies=Count("created_at", filter=reply), time_units=Sum("time_units"))
    )
    for row in written:
        counts[row.pop("author")].update(row)
    names = _agent_names(counts)
    rows = [AgentPerformance(agent_id=pk, agent=names[pk], **row) for pk, row in counts.items()]
    return sorted(rows, key=lambda row: (row.agent.casefold(), row.agent_id))


def _agent_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=list(ids))
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


# Backlog ageing -------------------------------------------------------------------------


AGE_LIMITS = (1, 3, 7, 30)  # days; each bucket is [lower, upper) of a request's age


@dataclass(frozen=True)
class Backlog:
    queue_id: int
    queue: str
    under_1_day: int
    days_1_to_3: int
    days_3_to_7: int
    days_7_to_30: int
    over_30_days: int

    @property
    def total(self) -> int:
        return (
            self.under_1_day
            + self.days_1_to_3
            + self.days_3_to_7
            + self.days_7_to_30
            + self.over_30_days
        )


def backlog_ageing(tickets: QuerySet[Ticket], now: datetime) -> list[Backlog]:
    """Open (active or postponed) requests per queue by how long ago they were created."""
    if timezone.is_naive(now):
        raise ValueError("`now` needs a time zone.")
    one, three, seven, thirty = (now - timedelta(days=days) for days in AGE_LIMITS)
    rows = (
        tickets.filter(base_status__in=OPEN)
        .values("queue", "queue__name")
        .annotate(
            under_1_day=Count("pk", filter=Q(created_at__gt=one)),
            days_1_to_3=Count("pk", filter=Q(created_at__gt=three, created_at__lte=one)),
            days_3_to_7=Count("pk", filter=Q(created_at__gt=seven, created_at__lte=three)),
            days_7_to_30=Count("pk", filter=Q(created_at__gt=thirty, created_at__lte=seven)),
            over_30_days=Count("pk", filter=Q(created_at__lte=thirty)),
        )
        .order_by("queue__name")
    )
    return [Backlog(queue_id=row.pop("queue"), queue=row.pop("queue__name"), **row) for row in rows]
