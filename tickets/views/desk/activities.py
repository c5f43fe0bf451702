"""My activities: the open tasks of the signed-in agent and their teams, soonest due first.
Scheduling, finishing and cancelling them is on the request page (views.desk.request)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from tickets.access import visible_activities
from tickets.filters import HIDDEN_BY_DEFAULT, ActivityFilter
from tickets.models import Activity
from tickets.views.desk import agent_required

PAGE_SIZE = 50


@require_GET
@agent_required
def my_activities(request):
    mine = (
        visible_activities(request.user)
        .assigned_to(request.user)
        # A merged or deleted request is out of everyday work, and so are its tasks.
        .exclude(ticket__base_status__in=HIDDEN_BY_DEFAULT)
        .select_related("ticket__queue", "assignee", "team")
    )
    filterset = ActivityFilter(request.GET, queryset=mine, request=request)
    activities = filterset.qs if filterset.is_valid() else Activity.objects.none()
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode(), "nav": "activities"}
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    template = "desk/activities/_results.html" if partial else "desk/activities/mine.html"
    return render(request, template, context)


urlpatterns = [
    path("activities/", my_activities, name="activities"),
]
