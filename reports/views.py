"""The desk's Reports section: one page per report, its chart where it has one, and its
table as CSV or XLSX, for agents with the permission to read reports."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from reports import exports, schedules
from reports.forms import ReportForm
from reports.models import ReportRun, ScheduledReport
from reports.tables import REPORTS
from tickets.access import visible_tickets
from tickets.views.desk import agent_required
from tickets.views.desk.dashboard import created_vs_closed

# A page shows this many rows (a summary has one per contact); the exports have them all.
SHOWN_ROWS = 200


def _reader(view):
    """Agents with the permission to read reports."""
    return agent_required(permission_required("reports.view_reports", raise_exception=True)(view))


@require_GET
@_reader
def report(request, name: str = "insights"):
    if name not in REPORTS:
        raise Http404("No such report.")
    title, build = REPORTS[name]
    form = ReportForm(request.GET, user=request.user)
    table = chart = None
    if form.is_valid():
        tickets = form.narrowed(visible_tickets(request.user))
        export = request.GET.get("format")
        table = build(
            tickets,
            form.cleaned_data.get("period"),
            form.cleaned_data["by"],
            timezone.now(),
            limit=None if export else SHOWN_ROWS,
        )
        filename = f"{name}-{form.cleaned_data['start']}-{form.cleaned_data['end']}"
        match export:
            case "csv":
                return exports.as_csv(table, filename)
            case "xlsx":
                return exports.as_xlsx(table, filename)
        if name == "insights":
            chart = created_vs_closed(
                {row[0]: row[1] for row in table.rows},
                {row[0]: row[2] for row in table.rows},
                [row[0] for row in table.rows],
            )
    shown = table.rows[:SHOWN_ROWS] if table else []
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "name": name,
        "title": title,
        "reports": {key: label for key, (label, _) in REPORTS.items()},
        "table": table,
        "shown": shown,
        "table_rows": table.html_rows(SHOWN_ROWS) if table else "",
        "chart": chart,
        "query": query.urlencode(),
        "frequencies": ScheduledReport.Frequency.choices,
        "nav": "reports",
    }
    return render(request, "reports/report.html", context)


@require_POST
@_reader
def schedule(request, name: str):
    """Mail this report with the page's filters (its period is the one just ended)."""
    filters = QueryDict(request.POST.get("filters", ""))
    try:
        made = schedules.schedule_report(
            owner=request.user,
            report=name,
            filters=filters,
            frequency=request.POST.get("frequency", ""),
            recipients=request.POST.get("recipients", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('reports:report', args=[name])}?{filters.urlencode()}")
    messages.success(request, f"Scheduled: first mailing {made.next_run_at:%Y-%m-%d %H:%M}.")
    return redirect("reports:schedules")


@require_GET
@_reader
def schedule_list(request):
    mine = request.user.scheduled_reports.prefetch_related(
        Prefetch("runs", queryset=ReportRun.objects.order_by("-ran_at", "-pk"))
    )
    rows = [(s, REPORTS.get(s.report, (s.report,))[0], list(s.runs.all())[:5]) for s in mine]
    return render(request, "reports/schedules.html", {"rows": rows, "nav": "reports"})


@require_POST
@_reader
def schedule_delete(request, pk: int):
    get_object_or_404(request.user.scheduled_reports, pk=pk).delete()
    messages.success(request, "The scheduled report is deleted.")
    return redirect("reports:schedules")


app_name = "reports"
urlpatterns = [
    path("", report, name="insights"),
    path("scheduled/", schedule_list, name="schedules"),
    path("scheduled/<int:pk>/delete/", schedule_delete, name="schedule_delete"),
    path("<slug:name>/", report, name="report"),
    path("<slug:name>/schedule/", schedule, name="schedule"),
]
