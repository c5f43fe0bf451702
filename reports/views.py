"""The desk's Reports section: one page per report, its chart where it has one, and its
table as CSV or XLSX, for agents with the permission to read reports."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from reports import exports
from reports.forms import ReportForm
from reports.tables import REPORTS
from tickets.access import visible_tickets
from tickets.views.desk import agent_required
from tickets.views.desk.dashboard import created_vs_closed


@require_GET
@agent_required
@permission_required("reports.view_reports", raise_exception=True)
def report(request, name: str = "insights"):
    if name not in REPORTS:
        raise Http404("No such report.")
    title, build = REPORTS[name]
    form = ReportForm(request.GET, user=request.user)
    table = chart = None
    if form.is_valid():
        tickets = form.narrowed(visible_tickets(request.user))
        table = build(
            tickets, form.cleaned_data.get("period"), form.cleaned_data["by"], timezone.now()
        )
        filename = f"{name}-{form.cleaned_data['start']}-{form.cleaned_data['end']}"
        match request.GET.get("format"):
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
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "name": name,
        "title": title,
        "reports": {key: label for key, (label, _) in REPORTS.items()},
        "table": table,
        "chart": chart,
        "query": query.urlencode(),
        "nav": "reports",
    }
    return render(request, "reports/report.html", context)


app_name = "reports"
urlpatterns = [
    path("", report, name="insights"),
    path("<slug:name>/", report, name="report"),
]
