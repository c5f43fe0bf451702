"""The back-office API under /api/v1/: what the desk shows and lets an agent do, as JSON.

Reads go through tickets.access (an agent sees exactly what the desk shows them), writes
through the desk's forms and tickets.workflow (api.inputs says how).
"""

from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, pagination, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import inputs
from api.errors import Stale
from api.idempotency import idempotent
from api.serializers import (
    EventSerializer,
    MessageSerializer,
    RequestSerializer,
    expands,
    request_answers,
    request_rows,
    shown_fields,
)
from tickets import workflow
from tickets.access import get_ticket_for_agent, is_agent, visible_tickets
from tickets.filters import HIDDEN_BY_DEFAULT, TicketFilter
from tickets.forms.request import (
    CloseForm,
    LinkForm,
    MergeForm,
    NoteForm,
    PostponeForm,
    PropertiesForm,
    RegressForm,
    ReplyForm,
)
from tickets.models import Ticket

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Query parameters that shape the answer rather than choose the requests.
PAGING = {"cursor", "page_size", "fields", "expand"}
# The change feed stops this far behind now: a transaction that began earlier but commits
# later must not be passed over by a client that already read beyond it.
SETTLE = timedelta(seconds=5)


class IsAgent(permissions.BasePermission):
    message = "The back-office API is for agents."

    def has_permission(self, request, view):
        return bool(request.user and is_agent(request.user))


class Cursor(pagination.CursorPagination):
    # A cursor, not a page number: stable while requests come in, and as fast on the
    # millionth row as on the first.
    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class TimelineCursor(Cursor):
    ordering = ("created_at", "id")


class HistoryCursor(Cursor):
    ordering = ("at", "id")


def answered(tickets: QuerySet[Ticket], request) -> QuerySet[Ticket]:
    """The requests with what their answer reads of other rows. Only the contact is
    joined: PostgreSQL took 50–80 ms to plan the list joined to all eight related tables
    (2 ms to run it); the rest come by prefetch, a query each, and only when expanded."""
    expanded = {name.strip() for name in request.query_params.get("expand", "").split(",")} & set(
        RequestSerializer.expandable
    )
    return tickets.select_related("contact").prefetch_related(
        "tags", "merged_into", *sorted(expanded - {"contact"})
    )


def etag(ticket: Ticket) -> str:
    """The request's version: its last change, to the microsecond."""
    return f'"{(ticket.updated_at - EPOCH) // timedelta(microseconds=1)}"'


def valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def files(data: dict) -> MultiValueDict:
    return MultiValueDict({"attachments": data.pop("attachments", [])})


# The desk list's filters, described for the schema (the view applies them by hand).
FILTERS = [
    OpenApiParameter(name, str, description=str(f.label or name))
    for name, f in TicketFilter.base_filters.items()
    if name != "sort"
]
SHAPING = [
    OpenApiParameter("fields", str, description="Comma-separated: only these fields."),
    OpenApiParameter(
        "expand",
        str,
        description="Comma-separated: these related rows in place of their ids "
        f"({', '.join(RequestSerializer.expandable)}).",
    ),
]
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag read: a change made since is refused with 412.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="The same key again (within 24 h) replays the first answer.",
)


class Changes(serializers.Serializer):
    results = RequestSerializer(many=True)
    next_since = serializers.CharField(help_text="Send it as `since` to get what changes next.")
    has_more = serializers.BooleanField()


def _action(summary: str, request=inputs.Empty, response=RequestSerializer, code=200):
    return extend_schema(
        summary=summary,
        request={"application/json": request, "multipart/form-data": request},
        responses={code: response},
        parameters=[IDEMPOTENCY_KEY],
    )


@extend_schema_view(
    list=extend_schema(
        summary="The requests the agent may see, filtered like the desk list",
        parameters=FILTERS + SHAPING,
    ),
    retrieve=extend_schema(summary="One request by its number", parameters=SHAPING),
    create=extend_schema(
        summary="Register a request (a call, an email to the contact, an internal one)",
        request={
            "application/json": inputs.RequestCreate,
            "multipart/form-data": inputs.RequestCreate,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={201: RequestSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a request's properties",
        request=inputs.RequestUpdate,
        parameters=[IF_MATCH],
    ),
)
class RequestViewSet(viewsets.GenericViewSet):
    serializer_class = RequestSerializer
    permission_classes = [IsAgent]
    pagination_class = Cursor
    lookup_field = "number"
    lookup_value_converter = "str"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return answered(visible_tickets(self.request.user), self.request)

    def filter_queryset(self, queryset):
        if not set(self.request.query_params) - PAGING:
            # Nothing to filter by: the list's default, without building the filter form
            # (its owner choices cost a query and a third of a page's time).
            return queryset.exclude(base_status__in=HIDDEN_BY_DEFAULT)
        filters = TicketFilter(self.request.query_params, queryset=queryset, request=self.request)
        if not filters.is_valid():
            raise exceptions.ValidationError(filters.errors)
        return filters.qs

    def get_object(self) -> Ticket:
        # The desk's own access rule: outside the agent's queues is "no such request".
        return get_ticket_for_agent(self.request.user, self.kwargs["number"])

    def answer(self, ticket: Ticket, code: int = status.HTTP_200_OK, *, read=True) -> Response:
        """The request as it is now (`read` again, after a step changed it), with its
        version."""
        if read:
            ticket = self.get_queryset().get(pk=ticket.pk)
        else:
            prefetch_related_objects([ticket], "tags")
        response = Response(self.get_serializer(ticket).data, status=code)
        response["ETag"] = etag(ticket)
        if code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:request-detail", args=[ticket.number])
        return response

    def list(self, request):
        requests = self.filter_queryset(visible_tickets(request.user))
        if expands(request):  # related rows in place of ids: read as instances
            page = self.paginate_queryset(answered(requests, request))
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        page = self.paginate_queryset(request_rows(requests))
        answers = request_answers(page, shown_fields(request), timezone.get_current_timezone())
        return self.get_paginated_response(answers)

    def retrieve(self, request, number):
        return self.answer(self.get_object(), read=False)

    @idempotent
    def create(self, request):
        data = valid(inputs.RequestCreate, request)
        attachments = files(data)
        form = inputs.RequestCreateForm(inputs.form_data(data), attachments, user=request.user)
        checked = inputs.checked(form)
        ticket = workflow.create_ticket(by=request.user, **form.request_fields(checked["contact"]))
        return self.answer(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request, number):
        ticket = self.get_object()
        seen_at = self._if_match(ticket)
        data = valid(inputs.RequestUpdate, request)
        subject = data.pop("subject", workflow.UNSET)
        form, names = self._properties_form(ticket, data)
        inputs.checked(form, names=names)
        changes = form.changes()
        workflow.edit_request(ticket, by=request.user, subject=subject, seen_at=seen_at, **changes)
        return self.answer(ticket)

    def _if_match(self, ticket: Ticket):
        header = self.request.headers.get("If-Match", "").strip()
        if not header or header == "*":
            return None
        seen = {tag.strip().removeprefix("W/") for tag in header.split(",")}
        if etag(ticket) not in seen:
            raise Stale()
        return ticket.updated_at

    def _properties_form(self, ticket: Ticket, data: dict) -> tuple[PropertiesForm, dict]:
        """The desk's properties form, filled with the request as it is and the changes."""
        user = self.request.user
        bound = dict(PropertiesForm(ticket=ticket, user=user).initial)
        custom = data.pop("custom_fields", {})
        unknown = sorted(key for key in custom if f"cf_{key}" not in bound)
        if unknown:
            raise exceptions.ValidationError(
                {f"custom_fields.{key}": ["There is no such custom field."] for key in unknown}
            )
        bound |= inputs.form_data(data)
        bound |= inputs.form_data({f"cf_{key}": value for key, value in custom.items()})
        bound = {key: "" if value is None else value for key, value in bound.items()}
        names = {f"cf_{key}": f"custom_fields.{key}" for key in custom}
        return PropertiesForm(bound, ticket=ticket, user=user), names

    # Actions: each one a workflow step, checked as the desk's form checks it.

    def _form(self, form_class, ticket: Ticket, data: dict, **kwargs) -> dict:
        attachments = files(data)
        form = form_class(
            inputs.form_data(data), attachments, ticket=ticket, user=self.request.user, **kwargs
        )
        return inputs.checked(form)

    @_action("Reply to the customer by email", inputs.Reply, MessageSerializer, 201)
    @action(detail=True, methods=["post"])
    @idempotent
    def reply(self, request, number):
        ticket = self.get_object()
        data = self._form(ReplyForm, ticket, valid(inputs.Reply, request))
        message = workflow.reply_to_customer(ticket, by=request.user, **data)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @_action("Add an internal note", inputs.Note, MessageSerializer, 201)
    @action(detail=True, methods=["post"])
    @idempotent
    def note(self, request, number):
        ticket = self.get_object()
        data = self._form(NoteForm, ticket, valid(inputs.Note, request))
        note = workflow.add_note(ticket, by=request.user, **data)
        return Response(MessageSerializer(note).data, status=status.HTTP_201_CREATED)

    @_action("Move the request on to its next stage")
    @action(detail=True, methods=["post"])
    def progress(self, request, number):
        ticket = self.get_object()
        valid(inputs.Empty, request)
        return self.answer(workflow.progress_ticket(ticket, by=request.user))

    @_action("Send the request back a stage, saying why", inputs.Regress)
    @action(detail=True, methods=["post"])
    def regress(self, request, number):
        ticket = self.get_object()
        data = self._form(RegressForm, ticket, valid(inputs.Regress, request))
        return self.answer(workflow.regress_ticket(ticket, reason=data["reason"], by=request.user))

    @_action("Postpone the request until a time", inputs.Postpone)
    @action(detail=True, methods=["post"])
    def postpone(self, request, number):
        ticket = self.get_object()
        data = self._form(PostponeForm, ticket, valid(inputs.Postpone, request))
        workflow.postpone_ticket(
            ticket, until=data["until"], status=data["status"], by=request.user
        )
        return self.answer(ticket)

    @_action("Make a postponed or closed request active again")
    @action(detail=True, methods=["post"])
    def reactivate(self, request, number):
        ticket = self.get_object()
        valid(inputs.Empty, request)
        return self.answer(workflow.reactivate_ticket(ticket, by=request.user))

    @_action("Close the request, resolved or not", inputs.Close)
    @action(detail=True, methods=["post"])
    def close(self, request, number):
        ticket = self.get_object()
        data = valid(inputs.Close, request)
        data["resolved"] = "yes" if data["resolved"] else "no"
        data = self._form(CloseForm, ticket, data)
        workflow.close_ticket(
            ticket, resolved=data["resolved"], status=data["status"], by=request.user
        )
        return self.answer(ticket)

    @_action("Merge the request into another; answers with the survivor", inputs.OtherRequest)
    @action(detail=True, methods=["post"])
    def merge(self, request, number):
        ticket = self.get_object()
        visible = visible_tickets(request.user)
        data = self._form(MergeForm, ticket, valid(inputs.OtherRequest, request), visible=visible)
        workflow.merge_ticket(ticket, into=data["number"], by=request.user)
        return self.answer(data["number"])

    @_action("Relate the request to another", inputs.OtherRequest)
    @action(detail=True, methods=["post"])
    def link(self, request, number):
        ticket = self.get_object()
        visible = visible_tickets(request.user)
        data = self._form(LinkForm, ticket, valid(inputs.OtherRequest, request), visible=visible)
        workflow.link_tickets(ticket, data["number"], by=request.user)
        return self.answer(ticket)

    # What the request holds

    @extend_schema(
        summary="The request's messages and notes, oldest first",
        responses=MessageSerializer(many=True),
    )
    @action(detail=True, pagination_class=TimelineCursor, serializer_class=MessageSerializer)
    def messages(self, request, number):
        ticket = self.get_object()
        found = ticket.messages.select_related("author").prefetch_related("attachments")
        page = self.paginate_queryset(found)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Correct an article's time units (its author, for a while after writing)",
        request=inputs.MessageUpdate,
        responses={200: MessageSerializer},
    )
    @action(detail=True, methods=["patch"], url_path="messages/<int:pk>")
    def message(self, request, number, pk):
        ticket = self.get_object()
        message = get_object_or_404(ticket.messages, pk=pk)
        data = valid(inputs.MessageUpdate, request)
        if "time_units" in data:
            workflow.correct_time_units(message, units=data["time_units"], by=request.user)
        return Response(MessageSerializer(message).data)

    @extend_schema(
        summary="The request's history, oldest first", responses=EventSerializer(many=True)
    )
    @action(detail=True, pagination_class=HistoryCursor, serializer_class=EventSerializer)
    def history(self, request, number):
        ticket = self.get_object()
        page = self.paginate_queryset(ticket.events.select_related("actor"))
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(
        summary="What changed since a cursor, oldest change first (for sync clients)",
        parameters=[
            OpenApiParameter(
                "since",
                str,
                description="`next_since` of the last answer; empty: from the beginning.",
            ),
            OpenApiParameter("page_size", int, description="At most 200; 50 if not given."),
        ],  # fmt: skip
        responses={200: Changes},
    )
    @action(detail=False, pagination_class=None)
    def changes(self, request):
        since = _since(request.query_params.get("since", ""))
        size = _page_size(request.query_params.get("page_size"))
        changed = visible_tickets(request.user).filter(updated_at__lte=timezone.now() - SETTLE)
        if since is not None:
            at, pk = since
            changed = changed.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
        rows = list(request_rows(changed).order_by("updated_at", "id")[: size + 1])
        last = rows[size - 1] if len(rows) > size else (rows[-1] if rows else None)
        fields, zone = RequestSerializer.Meta.fields, timezone.get_current_timezone()
        answer = {
            "results": request_answers(rows[:size], fields, zone),
            "next_since": _cursor(last) if last else request.query_params.get("since", ""),
            "has_more": len(rows) > size,
        }
        return Response(answer)


def _cursor(row: dict) -> str:
    point = f"{(row['updated_at'] - EPOCH) // timedelta(microseconds=1)}.{row['id']}"
    return urlsafe_b64encode(point.encode()).decode()


def _since(cursor: str) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        micros, pk = urlsafe_b64decode(cursor.encode()).decode().split(".")
        return EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, UnicodeError, OverflowError) as error:
        raise exceptions.ValidationError({"since": ["This is not a cursor we gave."]}) from error


def _page_size(value: str | None) -> int:
    if value in (None, ""):
        return Cursor.page_size
    if not value.isdigit() or not 1 <= int(value) <= Cursor.max_page_size:
        raise exceptions.ValidationError({"page_size": ["A number from 1 to 200."]})
    return int(value)
