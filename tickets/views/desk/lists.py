"""Request lists: filters, sorting, pages, saved views, bulk actions and the search box."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST

from tickets import workflow
from tickets.access import visible_tickets
from tickets.filters import DEFAULT_SORT, EXTRA_FILTERS, SORTED_LIMIT, TicketFilter
from tickets.forms.lists import BulkActionForm, SavedViewForm, list_query
from tickets.models import SavedView, Ticket
from tickets.search import RANKED_LIMIT, add_snippets
from tickets.views.desk import agent_required

PAGE_SIZE = 50
# Lists count and page through at most this many requests: counting a million takes
# longer than showing a page, and no one pages 200 pages deep (filters get there faster).
COUNT_CAP = 10_000

COLUMNS = [
    ("number", "Number"),
    ("subject", "Subject"),
    ("contact", "Contact"),
    ("queue", "Queue"),
    ("stage", "Stage"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("owner", "Owner"),
    ("deadline", "Deadline"),
    ("created", "Created"),
    ("updated", "Updated"),
]
# Columns whose first click shows the biggest first: newest, most urgent.
DESCENDING_FIRST = {"created", "updated", "priority"}

DONE = {
    "assign": "Assigned",
    "status": "Changed the status of",
    "priority": "Changed the priority of",
    "queue": "Moved",
    "tags": "Set the tags of",
    "close": "Closed",
    "merge": "Merged",
}

# Filters behind "More": their panel opens when one of them is set.
MORE_FILTERS = (
    "stage",
    "base_status",
    "team",
    "category",
    "tag",
    "channel",
    "contact",
    "company",
    "created_after",
    "created_before",
    "deadline_after",
    "deadline_before",
)

# The navigation's entries, by the filters their links set.
NAV = {
    "": "all",
    "open=1&owner=me": "mine",
    "open=1&owner=nobody": "unassigned",
    "overdue=1": "overdue",
}


class CappedPaginator(Paginator):
    """Counts no further than COUNT_CAP; `capped` tells whether there were more."""

    capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list[: COUNT_CAP + 1].count()
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)


def _list_url(query: QueryDict, **changes) -> str:
    """The list's address for `query`; a new sort or page replaces the page number."""
    params = query.copy()
    if changes:
        params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    encoded = params.urlencode()
    return reverse("desk:requests") + (f"?{encoded}" if encoded else "")


def _columns(query: QueryDict, current: str) -> list[dict]:
    columns = []
    for key, label in COLUMNS:
        if current == key:
            direction, toggled = "asc", f"-{key}"
        elif current == f"-{key}":
            direction, toggled = "desc", key
        else:
            direction, toggled = None, f"-{key}" if key in DESCENDING_FIRST else key
        url = _list_url(query, sort=toggled)
        columns.append({"key": key, "label": label, "url": url, "direction": direction})
    return columns


def _nav(query: QueryDict) -> str:
    filters = QueryDict(list_query(query), mutable=True)
    filters.pop("sort", None)
    return NAV.get("&".join(f"{k}={v}" for k, v in sorted(filters.items())), "")


def _saved_views(user):
    return SavedView.objects.filter(
        Q(owner=user) | Q(team__in=user.groups.values("pk"))
    ).select_related("owner", "team")


def _render_list(request, query: QueryDict, *, bulk_form=None, view_form=None, selected=()):
    """The list page for `query`; a POST whose form has errors renders it too, so the
    errors show next to their fields with the person's choices kept."""
    filterset = TicketFilter(query, queryset=visible_tickets(request.user), request=request)
    tickets = filterset.qs if filterset.is_valid() else Ticket.objects.none()
    ids = tickets.values_list("pk", flat=True)
    page = CappedPaginator(ids, PAGE_SIZE).get_page(query.get("page"))
    page.object_list = _rows(list(page.object_list))
    words = filterset.form.cleaned_data.get("q") if filterset.is_valid() else ""
    add_snippets(page.object_list, words)
    current_query = list_query(query)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "current_query": current_query,
        "columns": _columns(query, "" if filterset.ranks_by_relevance else filterset.sort_key),
        "count_cap": f"{COUNT_CAP:,}",
        "sorted_limit": f"{SORTED_LIMIT:,}"
        if filterset.is_valid()
        and filterset.sorts_newest_only
        and page.paginator.count >= SORTED_LIMIT
        else "",
        "ranked_limit": f"{RANKED_LIMIT:,}"
        if filterset.ranks_by_relevance and page.paginator.count == RANKED_LIMIT
        else "",
        "sort": filterset.sort_key if filterset.sort_key != DEFAULT_SORT else "",
        # Closed panels (bulk actions, "More filters", saving the view) load their fields
        # when opened; a form that came back with errors renders in place, its panel open.
        "bulk_form": bulk_form,
        "bulk_actions": BulkActionForm.ACTIONS,
        "view_form": view_form,
        "saved_views": _saved_views(request.user),
        "page_urls": {
            "previous": page.has_previous() and _list_url(query, page=page.previous_page_number()),
            "next": page.has_next() and _list_url(query, page=page.next_page_number()),
        },
        "more_filters_shown": any(
            query.get(name) or name in filterset.errors for name in (*MORE_FILTERS, *EXTRA_FILTERS)
        ),
        "extra_filters": EXTRA_FILTERS,
        "selected": {str(pk) for pk in selected},
        "search_query": query.get("q", ""),
        "nav": _nav(query),
        "is_htmx": bool(request.headers.get("HX-Request")),
    }
    template = "desk/lists/_results.html" if context["is_htmx"] else "desk/lists/requests.html"
    return render(request, template, context)


def _rows(ids: list[int]) -> list[Ticket]:
    """The page's requests, in the order of `ids`, with what the list shows of them.

    The page is sorted and cut on the requests alone: sorting after the joins made
    PostgreSQL join every matching request (34,000 open ones for a sort by deadline) to
    keep 50. People are joined; the small configuration tables come by id in queries of
    their own, since joining them too made planning take 20 ms for a 1 ms query."""
    rows = (
        Ticket.objects.select_related("contact__company", "owner")
        .prefetch_related("queue", "stage", "status", "priority", "team", "tags")
        .in_bulk(ids)
    )
    # One deleted in between is simply not shown.
    return [rows[pk] for pk in ids if pk in rows]


@require_GET
@agent_required
def request_list(request):
    return _render_list(request, request.GET)


@require_GET
@agent_required
def more_filters(request):
    """The "More filters" fields, fetched when the panel is first opened. It opens only
    with none of them set, so they start empty."""
    return render(
        request,
        "desk/lists/_more_filters.html",
        {"filter": TicketFilter(request=request), "extra_filters": EXTRA_FILTERS},
    )


@require_GET
@agent_required
def bulk_panel(request, action: str):
    """One bulk action's fields, fetched when its panel is first opened."""
    if action not in dict(BulkActionForm.ACTIONS):
        raise Http404("No such action.")
    context = {"action": action, "bulk_form": BulkActionForm(user=request.user)}
    return render(request, "desk/lists/_bulk_panel.html", context)


@require_GET
@agent_required
def search(request):
    """The search box: a request number jumps to the request, anything else lists the
    requests whose subject or messages hold the words."""
    words = request.GET.get("q", "").strip()
    if not words:
        return redirect("desk:requests")
    ticket = visible_tickets(request.user).filter(number__iexact=words).only("number").first()
    if ticket is not None:
        return redirect(f"/desk/requests/{ticket.number}/")
    return redirect(_list_url(QueryDict(), q=words))


def _selected_tickets(request) -> list[Ticket]:
    """The requests ticked on the list. One the agent cannot see (or that does not exist)
    refuses the whole action, like any other request outside their queues."""
    ids = request.POST.getlist("tickets")
    if not all(value.isdigit() for value in ids):
        raise Http404("No such request.")
    tickets = list(visible_tickets(request.user).filter(pk__in=ids).order_by("pk"))
    if len(tickets) != len(set(ids)):
        raise Http404("No such request.")
    return tickets


def _apply(action: str, ticket: Ticket, data: dict, *, by) -> None:
    """One request's share of a bulk action, through its lifecycle function."""
    match action:
        case "assign":
            workflow.assign_ticket(ticket, by=by, owner=data["owner"], team=data["team"])
        case "status":
            workflow.change_status(
                ticket,
                status=data["status"],
                by=by,
                postponed_until=data["postponed_until"],
                resolved=data["resolved"],
            )
        case "priority":
            workflow.update_ticket(ticket, by=by, priority=data["priority"])
        case "queue":
            workflow.update_ticket(ticket, by=by, queue=data["queue"])
        case "tags":
            workflow.set_tags(ticket, tags=data["tags"], by=by)
        case "close":
            workflow.close_ticket(ticket, resolved=data["resolved"], by=by)
        case "merge":
            workflow.merge_ticket(ticket, into=data["merge_into"], by=by)


@require_POST
@agent_required
def bulk_action(request):
    tickets = _selected_tickets(request)
    query = QueryDict(list_query(request.POST.get("query", ""), keep_page=True))
    form = BulkActionForm(request.POST, user=request.user)
    if not tickets:
        messages.error(request, "Select at least one request first.")
        return redirect(_list_url(query))
    if not form.is_valid():
        return _render_list(request, query, bulk_form=form, selected=[t.pk for t in tickets])
    data = form.cleaned_data
    if data["action"] == "merge":
        # Merging the kept request into itself is no refusal: it is simply the one kept.
        tickets = [t for t in tickets if t.pk != data["merge_into"].pk]
        if not tickets:
            messages.error(request, "Select the requests to merge as well as the one to keep.")
            return redirect(_list_url(query))
    refusals = []
    for ticket in tickets:
        try:
            _apply(data["action"], ticket, data, by=request.user)
        except workflow.WorkflowError as refusal:
            text = str(refusal)
            refusals.append(text if ticket.number in text else f"{ticket.number}: {text}")
    done = len(tickets) - len(refusals)
    if done:
        messages.success(request, f"{DONE[data['action']]} {done} {_requests(done)}.")
    if refusals:
        messages.error(
            request,
            f"{len(refusals)} {_requests(len(refusals))} not changed: " + " ".join(refusals),
        )
    return redirect(_list_url(query))


def _requests(count: int) -> str:
    return "request" if count == 1 else "requests"


@require_GET
@agent_required
def save_view_fields(request):
    """The saved-view form's fields, fetched when its panel is first opened."""
    context = {"view_form": SavedViewForm(owner=request.user)}
    return render(request, "desk/lists/_save_view_fields.html", context)


@require_POST
@agent_required
def save_view(request):
    form = SavedViewForm(request.POST, owner=request.user)
    if not form.is_valid():
        query = QueryDict(list_query(request.POST.get("query", "")))
        return _render_list(request, query, view_form=form)
    saved = form.save()
    messages.success(request, f"Saved the view “{saved.name}”.")
    return redirect(_list_url(QueryDict(saved.query)))


@require_POST
@agent_required
def delete_view(request, pk: int):
    # Only its owner deletes a view; a teammate's shared one is not theirs to remove.
    saved = get_object_or_404(SavedView, pk=pk, owner=request.user)
    saved.delete()
    messages.success(request, f"Deleted the view “{saved.name}”.")
    return redirect(_list_url(QueryDict(request.POST.get("query", ""))))


urlpatterns = [
    path("requests/", request_list, name="requests"),
    path("requests/filters/", more_filters, name="more_filters"),
    path("requests/bulk/", bulk_action, name="bulk"),
    path("requests/bulk/<str:action>/", bulk_panel, name="bulk_panel"),
    path("search/", search, name="search"),
    path("views/", save_view, name="save_view"),
    path("views/fields/", save_view_fields, name="save_view_fields"),
    path("views/<int:pk>/delete/", delete_view, name="delete_view"),
]
