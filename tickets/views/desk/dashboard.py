"""The dashboard: how the agent's queues stand now, and the last 30 days' flow."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from tickets.access import queues_for, visible_tickets
from tickets.models import Queue, Status, Ticket
from tickets.views.desk import agent_required

CHART_DAYS = 30
OPEN = [Status.Base.ACTIVE, Status.Base.POSTPONED]


def per_day(tickets: QuerySet[Ticket], field: str, since: datetime) -> dict[date, int]:
    """How many requests have `field` on each local day since `since`: one query."""
    rows = (
        tickets.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .order_by()
        .values("day")
        .annotate(count=Count("pk"))
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


def _panels(user) -> dict:
    now = timezone.now()
    tickets = visible_tickets(user)
    open_tickets = tickets.open()
    # Membership joins would repeat a queue once per team; select the queues by id instead.
    queues = (
        Queue.objects.filter(pk__in=queues_for(user).values("pk"))
        .annotate(open_count=Count("tickets", filter=Q(tickets__base_status__in=OPEN)))
        .order_by("name")
    )
    by_status = (
        open_tickets.order_by()
        .values("status", "status__name", "base_status")
        .annotate(count=Count("pk"))
        .order_by("base_status", "status__name")
    )
    by_priority = (
        open_tickets.order_by()
        .values("priority", "priority__name", "priority__color", "priority__rank")
        .annotate(count=Count("pk"))
        .order_by("-priority__rank")
    )
    totals = open_tickets.aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(owner__isnull=True)),
        overdue=Count("pk", filter=Q(deadline__lt=now)),
        mine=Count("pk", filter=Q(owner=user)),
    )
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
