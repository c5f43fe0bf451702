"""Self-service for contacts under /api/v1/portal/: the portal's pages as JSON, by the
portal's rules (tickets.access for what a contact may follow, tickets.customers and the
portal's forms for what they may do)."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import inputs
from api.idempotency import idempotent
from api.serializers import (
    ApprovalSerializer,
    CustomerMessageSerializer,
    CustomerRequestSerializer,
    PortalQueueSerializer,
)
from api.views import IDEMPOTENCY_KEY, Cursor, TimelineCursor, files, valid
from tickets import customers, workflow
from tickets.access import contact_of, get_ticket_for_contact, visible_tickets_for_contact
from tickets.forms.portal import NewRequestForm, ReplyForm
from tickets.models import Queue, Ticket


class IsContact(permissions.BasePermission):
    message = "Self-service is for customers; agents use the back-office API."

    def has_permission(self, request, view):
        return contact_of(request.user) is not None


def _both(serializer):
    return {"application/json": serializer, "multipart/form-data": serializer}


@extend_schema_view(
    list=extend_schema(
        summary="The customer's requests (with `scope=company`, their company's)",
        parameters=[OpenApiParameter("scope", str, enum=["mine", "company"])],
    ),
    retrieve=extend_schema(summary="One of the customer's requests"),
    create=extend_schema(
        summary="Open a request",
        request=_both(inputs.PortalRequestCreate),
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CustomerRequestSerializer},
    ),
)
class PortalRequestViewSet(viewsets.GenericViewSet):
    serializer_class = CustomerRequestSerializer
    permission_classes = [IsContact]
    pagination_class = Cursor
    lookup_field = "number"
    lookup_value_converter = "str"

    @property
    def contact(self):
        return contact_of(self.request.user)

    def get_queryset(self):
        return visible_tickets_for_contact(self.contact).select_related(
            "queue", "status", "contact"
        )

    def get_object(self) -> Ticket:
        return get_ticket_for_contact(self.contact, self.kwargs["number"])

    def answer(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        response = Response(
            self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data, status=code
        )
        if code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:portal-request-detail", args=[ticket.number])
        return response

    def list(self, request):
        found = self.get_queryset()
        scope = request.query_params.get("scope", "mine")
        if scope == "mine":
            found = found.filter(contact=self.contact)
        elif scope != "company" or not (
            self.contact.can_see_company_requests and self.contact.company_id
        ):
            raise exceptions.ValidationError(
                {"scope": ["“mine”, or “company” if you may follow your company's requests."]}
            )
        page = self.paginate_queryset(found)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, number):
        return self.answer(self.get_object())

    @idempotent
    def create(self, request):
        data = valid(inputs.PortalRequestCreate, request)
        attachments = files(data)
        checked = inputs.checked(NewRequestForm(inputs.form_data(data), attachments))
        ticket = customers.open_request(contact=self.contact, **checked)
        return self.answer(ticket, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The request's messages the customer may read, oldest first",
        responses=CustomerMessageSerializer(many=True),
    )
    @action(
        detail=True, pagination_class=TimelineCursor, serializer_class=CustomerMessageSerializer
    )
    def messages(self, request, number):
        ticket = self.get_object()
        readable = (
            ticket.messages.for_customer().select_related("author").prefetch_related("attachments")
        )
        page = self.paginate_queryset(readable)
        return self.get_paginated_response(CustomerMessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Write to the request",
        request=_both(inputs.PortalReply),
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CustomerMessageSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reply(self, request, number):
        ticket = self.get_object()
        data = valid(inputs.PortalReply, request)
        attachments = files(data)
        checked = inputs.checked(ReplyForm(inputs.form_data(data), attachments))
        message = customers.write_message(ticket, contact=self.contact, **checked)
        return Response(CustomerMessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Close the request: it is solved", request=inputs.Empty)
    @action(detail=True, methods=["post"])
    def close(self, request, number):
        ticket = self.get_object()
        valid(inputs.Empty, request)
        return self.answer(customers.close_request(ticket, contact=self.contact))

    @extend_schema(
        summary="What the customer is asked to approve",
        responses={200: ApprovalSerializer(many=True)},
    )
    @action(detail=True, pagination_class=None)
    def approvals(self, request, number):
        ticket = self.get_object()
        asked = (
            ticket.approvals.for_customer().select_related("stage").order_by("requested_at", "id")
        )
        return Response(ApprovalSerializer(asked, many=True).data)

    @extend_schema(
        summary="Approve or refuse", request=inputs.Decision, responses={200: ApprovalSerializer}
    )
    @action(detail=True, methods=["post"], url_path="approvals/<int:pk>/decide")
    def decide(self, request, number, pk):
        ticket = self.get_object()
        approval = get_object_or_404(ticket.approvals.for_customer(), pk=pk)
        data = valid(inputs.Decision, request)
        approval = workflow.decide_approval(approval, approved=data["approve"], by=request.user)
        return Response(ApprovalSerializer(approval).data)


@extend_schema_view(list=extend_schema(summary="The queues that take requests from customers"))
class PortalQueueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PortalQueueSerializer
    permission_classes = [IsContact]
    lookup_value_converter = "int"
    pagination_class = None
    queryset = Queue.objects.filter(is_open_to_portal=True).order_by("name")
