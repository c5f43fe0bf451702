"""The back-office API under /api/v1/: what the desk shows an agent, as JSON."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, pagination, permissions, viewsets

from api.serializers import RequestSerializer
from tickets.access import get_ticket_for_agent, is_agent, visible_tickets
from tickets.filters import TicketFilter

RELATED = ("queue", "stage", "status", "priority", "category", "owner", "team", "contact")


class IsAgent(permissions.BasePermission):
    message = "The back-office API is for agents."

    def has_permission(self, request, view):
        return bool(request.user and is_agent(request.user))


class RequestCursor(pagination.CursorPagination):
    # A cursor, not a page number: stable while requests come in, and as fast on the
    # millionth row as on the first.
    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


# The desk list's filters, described for the schema (the view applies them by hand).
FILTERS = [
    OpenApiParameter(name, str, description=str(f.label or name))
    for name, f in TicketFilter.base_filters.items()
    if name != "sort"
]


@extend_schema_view(
    list=extend_schema(
        summary="The requests the agent may see, filtered like the desk list", parameters=FILTERS
    ),
    retrieve=extend_schema(summary="One request by its number"),
)
class RequestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RequestSerializer
    permission_classes = [IsAgent]
    pagination_class = RequestCursor
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return visible_tickets(self.request.user).select_related(*RELATED)

    def filter_queryset(self, queryset):
        filters = TicketFilter(self.request.query_params, queryset=queryset, request=self.request)
        if not filters.is_valid():
            raise exceptions.ValidationError(filters.errors)
        return filters.qs

    def get_object(self):
        # The desk's own access rule: outside the agent's queues is "no such request".
        return get_ticket_for_agent(self.request.user, self.kwargs["number"])
