"""The dashboard: how the agent's queues stand now, and the last 30 days' flow."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.urls import path
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tickets.access import queues_for
from tickets.models import Priority, Queue, Status, Ticket
from tickets.views.desk import agent_required

CHART_DAYS = 30


def per_day(tickets: QuerySet[Ticket], field: str, since: datetime) -> dict[date, int]:
    """How many requests have `field` on each local day since `since`: one query. The
    field itself is counted so an index holding it and the queue can answer alone."""
    rows = (
        tickets.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .order_by()
        .values("day")
        .annotate(count=Count(field))
        .values_list("day", "count")
    )
    return dict(rows)


@dataclass
class Chart:
    """Created-vs-closed bars laid out for an inline SVG (no JavaScript, no library)."""

    days: list[dict]
    gridlines: list[dict]
    total_created: int
    total_closed: int
    width: int = 760
    height: int = 230
    left: int = 34
    top: int = 28
    bottom: int = 24

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom

    def marks(self) -> str:
        """The bars and day labels as SVG. Written here, not by the template: a report's
        year of days is 730 bars, which template tags drew in 200 ms. The numbers are
        ours and the kinds fixed; only the day's name is text, and it is escaped."""
        marks = []
        for day in self.days:
            title = escape(dateformat.format(day["date"], "D j M"))
            for bar in day["bars"]:
                marks.append(
                    BAR.format(**bar, width=day["width"], fill=FILLS[bar["kind"]], day=title)
                )
            if day["labelled"]:
                label = escape(dateformat.format(day["date"], "j M"))
                marks.append(DAY_LABEL.format(x=day["label_x"], y=self.height - 6, day=label))
        return mark_safe("".join(marks))  # nosec B308 B703: numbers, fixed words, escaped text


BAR = (
    '<rect class="bar-{kind}" x="{x}" y="{y}" width="{width}" height="{height}" rx="1" '
    'style="{fill}"><title>{day}: {count} {kind}</title></rect>'
)
# Closed bars are hatched as well as green: the two differ without colour.
FILLS = {
    "created": "fill: var(--bs-primary)",
    "closed": "fill: url(#closed-hatch); stroke: var(--bs-success)",
}
DAY_LABEL = (
    '<text x="{x}" y="{y}" font-size="10" text-anchor="middle" fill="currentColor" '
    'fill-opacity="0.7">{day}</text>'
)


def created_vs_closed(created: dict[date, int], closed: dict[date, int], days: list[date]) -> Chart:
    chart = Chart(
        days=[],
        gridlines=[],
        total_created=sum(created.get(day, 0) for day in days),
        total_closed=sum(closed.get(day, 0) for day in days),
    )
    peak = max([*created.values(), *closed.values(), 1])
    # An even top keeps the middle gridline on a whole number.
    top = peak + peak % 2 if peak > 1 else 2
    slot = (chart.width - chart.left - 4) / len(days)
    bar = slot * 0.38
    for index, day in enumerate(days):
        x = chart.left + index * slot + slot * 0.12
        bars = []
        for kind, counts, offset in (("created", created, 0), ("closed", closed, bar)):
            count = counts.get(day, 0)
            height = count / top * chart.plot_height
            bars.append(
                {
                    "kind": kind,
                    "count": count,
                    "x": round(x + offset, 1),
                    "y": round(chart.baseline - height, 1),
                    "height": round(height, 1),
                }
            )
        chart.days.append(
            {
                "date": day,
                "bars": bars,
                "width": round(bar, 1),
                "label_x": round(x + bar, 1),
                # Every fifth day, counted back from today so that today is labelled.
                "labelled": (len(days) - 1 - index) % 5 == 0,
            }
        )
    for value in (0, top // 2, top):
        y = chart.baseline - value / top * chart.plot_height
        chart.gridlines.append({"value": value, "y": round(y, 1)})
    return chart


def _last_days(now: datetime) -> tuple[list[date], datetime]:
    today = timezone.localdate(now)
    days = [today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    return days, timezone.make_aware(datetime.combine(days[0], time.min))


def _open_groups(tickets: QuerySet[Ticket], user, now: datetime) -> list[dict]:
    """The agent's open requests counted per queue, status and priority (a few dozen rows):
    one pass over them, where a query per panel read them five times. Names are looked up
    afterwards: joining them before grouping doubled the query's time. Counting
    queue_id (never empty), not id: the id is not in the ticket_open_counts index, and
    needing it made PostgreSQL read the table instead of the index alone."""
    return list(
        tickets.open()
        .order_by()
        .values("queue", "status", "priority")
        .annotate(
            count=Count("queue"),
            unassigned=Count("queue", filter=Q(owner__isnull=True)),
            # Postponed requests' clocks stand still: only active ones run late.
            overdue=Count("queue", filter=Q(deadline__lt=now, base_status=Status.Base.ACTIVE)),
            mine=Count("queue", filter=Q(owner=user)),
        )
    )


def _count_by(groups: list[dict], key: str) -> Counter:
    counts = Counter()
    for group in groups:
        counts[group[key]] += group["count"]
    return counts


def _panels(user) -> dict:
    now = timezone.now()
    # Membership joins would repeat a queue once per team; select the queues by id instead.
    queues = list(Queue.objects.filter(pk__in=queues_for(user).values("pk")).order_by("name"))
    # The agent's requests by the ids of their queues, not by a subquery: PostgreSQL
    # misjudged how many queues the subquery gives and read the open requests from the
    # table (170 ms at a million requests) instead of from their index (25 ms).
    tickets = Ticket.objects.filter(queue__in=[queue.pk for queue in queues])
    groups = _open_groups(tickets, user, now)
    statuses = Status.objects.in_bulk({g["status"] for g in groups})
    priorities = Priority.objects.in_bulk({g["priority"] for g in groups})
    open_by_queue = _count_by(groups, "queue")
    for queue in queues:
        queue.open_count = open_by_queue[queue.pk]
    by_status = [
        {
            "status": pk,
            "status__name": statuses[pk].name,
            "base_status": statuses[pk].base,
            "count": count,
        }
        for pk, count in _count_by(groups, "status").items()
    ]
    by_status.sort(key=lambda row: (row["base_status"], row["status__name"]))
    by_priority = [
        {
            "priority": pk,
            "priority__name": priorities[pk].name,
            "priority__color": priorities[pk].color,
            "priority__rank": priorities[pk].rank,
            "count": count,
        }
        for pk, count in _count_by(groups, "priority").items()
    ]
    by_priority.sort(key=lambda row: -row["priority__rank"])
    totals = {"open": sum(group["count"] for group in groups)} | {
        name: sum(group[name] for group in groups) for name in ("unassigned", "overdue", "mine")
    }
    days, since = _last_days(now)
    chart = created_vs_closed(
        per_day(tickets, "created_at", since), per_day(tickets, "closed_at", since), days
    )
    return {
        "queues": queues,
        "by_status": by_status,
        "by_priority": by_priority,
        "totals": totals,
        "chart": chart,
    }


@agent_required
def dashboard(request):
    template = (
        "desk/dashboard/_panels.html"
        if request.headers.get("HX-Request")
        else "desk/dashboard/dashboard.html"
    )
    return render(request, template, {**_panels(request.user), "nav": "dashboard"})


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
]
