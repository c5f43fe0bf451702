"""Webhook subscriptions: an agent with the permission subscribes a URL to domain event
names; each such event about a request the agent may see is delivered there, signed,
retried and logged by integrations.webhooks (the automations' machinery)."""

import secrets

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from api.inputs import RefusesUnknownFields
from api.models import WebhookSubscription
from api.views import IsAgent
from integrations import http, webhooks
from tickets import events
from tickets.access import visible_tickets
from tickets.models import DomainEvent

TOPIC = "subscription"
SUBSCRIBED = "api:subscribed-events"


def subscribed_events() -> frozenset[str]:
    """The event names some active subscription wants (cached, forgotten on every change
    of a subscription): the events of the others cost nothing."""
    names = cache.get(SUBSCRIBED)
    if names is None:
        names = frozenset(
            name
            for listed in WebhookSubscription.objects.filter(is_active=True).values_list(
                "events", flat=True
            )
            for name in listed
        )
        cache.set(SUBSCRIBED, names, timeout=300)
    return names


def forget_subscribed_events() -> None:
    transaction.on_commit(lambda: cache.delete(SUBSCRIBED))
    cache.delete(SUBSCRIBED)


def wanted(event: DomainEvent) -> bool:
    return event.ticket_id is not None and event.name in subscribed_events()


def tell_subscribers(event: DomainEvent) -> None:
    """Queue a delivery for every active subscription to this event whose owner may see
    the request (an agent who lost a queue stops hearing of it)."""
    active = WebhookSubscription.objects.filter(is_active=True, user__is_active=True)
    for subscription in active.select_related("user"):
        if event.name not in subscription.events:
            continue
        if not visible_tickets(subscription.user).filter(pk=event.ticket_id).exists():
            continue
        webhooks.enqueue(
            url=subscription.url,
            secret=subscription.secret,
            event=f"request.{event.name}",
            payload=payload(event),
            topic=TOPIC,
            reference=f"subscription:{subscription.pk} event:{event.pk}",
        )


def payload(event: DomainEvent) -> dict:
    ticket = event.ticket
    return {
        "event": event.name,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "request": {
            "number": ticket.number,
            "subject": ticket.subject,
            "queue": ticket.queue_id,
            "status": ticket.status_id,
            "base_status": ticket.base_status,
            "updated_at": ticket.updated_at.isoformat(),
        },
        "details": event.payload,
    }


class SubscriptionSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=events.NAMES), allow_empty=False
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "secret", "created_at"]
        read_only_fields = ["id", "secret", "created_at"]

    def validate_url(self, url: str) -> str:
        try:
            http.check_url(url)
        except http.Refused as refused:
            raise serializers.ValidationError(str(refused)) from refused
        return url


class MaySubscribe(permissions.BasePermission):
    message = "Subscribing to webhooks needs the permission “Can add webhook subscription”."

    def has_permission(self, request, view):
        return request.user.has_perm("api.add_webhooksubscription")


@extend_schema_view(
    list=extend_schema(summary="Your webhook subscriptions"),
    create=extend_schema(summary="Subscribe a URL to domain events (the answer holds its secret)"),
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    serializer_class = SubscriptionSerializer
    permission_classes = [IsAgent, MaySubscribe]
    pagination_class = None
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return self.request.user.webhook_subscriptions.all()

    def perform_create(self, serializer):
        serializer.save(
            user=self.request.user, secret=secrets.token_hex(32), created_at=timezone.now()
        )
        forget_subscribed_events()

    def perform_update(self, serializer):
        serializer.save()
        forget_subscribed_events()

    def perform_destroy(self, instance):
        instance.delete()
        forget_subscribed_events()
