"""Escalation hooks: the analogue of SuperOffice's CRMScript id.

A level may name a Python callable registered here, or a webhook URL. Either way, once
the sweep that reached the level has committed, the subscriber to its ESCALATED event
(escalation.subscribers) writes a HookDelivery, and a Celery task delivers it after that
commit, with retries and backoff, recording every attempt's outcome. A failing hook
therefore never holds up or undoes the sweep.

Register a hook in any installed app's `hooks.py` (they are imported at start-up):

    from escalation.hooks import hook

    @hook("page_the_duty_manager")
    def page_the_duty_manager(ticket, level):
        ...

It is called with the request and the EscalationLevel (None if the level was deleted
since); raising an exception counts as a failed attempt.

A webhook receives a JSON POST of the request. `X-Helpdesk-Signature: sha256=<hex>` is
the HMAC-SHA256 of the exact body with ESCALATION_WEBHOOK_SECRET (a setting or an
environment variable), and `X-Helpdesk-Delivery` is the same on every retry of a delivery.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from escalation.models import HookDelivery
from escalation.notifications import request_link
from integrations import http
from tickets.models import EscalationLevel, Ticket

Hook = Callable[[Ticket, EscalationLevel | None], object]

_registry: dict[str, Hook] = {}

CLAIM = timedelta(minutes=2)  # longer than one attempt can take
SIGNATURE_HEADER = "X-Helpdesk-Signature"
DELIVERY_HEADER = "X-Helpdesk-Delivery"


class DeliveryFailed(Exception):
    """One attempt failed; the task retries it with backoff."""


def hook(name: str) -> Callable[[Hook], Hook]:
    """Register a callable under a name an escalation level can choose in the admin."""

    def register(function: Hook) -> Hook:
        _registry[name] = function
        return function

    return register


def choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(name, name) for name in sorted(_registry)]


def secret() -> bytes:
    configured = settings.ESCALATION_WEBHOOK_SECRET
    if configured:
        return configured.encode()
    # Unset: a key of its own derived from SECRET_KEY, never SECRET_KEY itself.
    return salted_hmac("escalation.webhook", "secret").hexdigest().encode()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(secret(), body, hashlib.sha256).hexdigest()


def timeout() -> float:
    return settings.ESCALATION_WEBHOOK_TIMEOUT


def payload(ticket: Ticket, level: EscalationLevel, now: datetime) -> dict:
    """What a receiver learns about the escalated request."""
    return {
        "event": "escalated",
        "at": now,
        "level": level.alert_level,
        "request": {
            "number": ticket.number,
            "subject": ticket.subject,
            "queue": ticket.queue.name,
            "priority": ticket.priority.name,
            "status": ticket.status.name,
            "owner": ticket.owner.get_username() if ticket.owner else None,
            "team": ticket.team.name if ticket.team else None,
            "contact": ticket.contact.email if ticket.contact else None,
            "created_at": ticket.created_at,
            "deadline": ticket.deadline,
            "escalation_level": ticket.escalation_level,
            "url": request_link(ticket),
        },
    }


def schedule(reached: list[tuple[Ticket, EscalationLevel]], *, now: datetime) -> list[HookDelivery]:
    """Record the hooks and webhooks of the levels just reached as deliveries, sent once
    this commits."""
    from escalation.tasks import deliver_hook  # tasks → engine → here

    deliveries = []
    for ticket, level in reached:
        targets = []
        if level.hook_name:
            targets.append((HookDelivery.Kind.CALLABLE, level.hook_name))
        if level.webhook_url:
            targets.append((HookDelivery.Kind.WEBHOOK, level.webhook_url))
        if not targets:
            continue
        # A round trip through JSON, so what is stored is exactly what is sent.
        data = json.loads(json.dumps(payload(ticket, level, now), cls=DjangoJSONEncoder))
        deliveries.extend(
            HookDelivery(
                ticket=ticket, level=level, kind=kind, target=target, payload=data, created_at=now
            )
            for kind, target in targets
        )
    deliveries = HookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: deliver_hook.delay(pk), robust=True)
    return deliveries


def deliver(delivery_pk: int, *, now: datetime | None = None) -> bool:
    """One attempt at a delivery. True when delivered now, False when there was nothing
    to do (delivered already, or another worker holds it); DeliveryFailed otherwise."""
    now = now or timezone.now()
    # Claimed by a conditional UPDATE: a duplicate of the task finds it taken or done.
    claimed = (
        HookDelivery.objects.filter(pk=delivery_pk)
        .exclude(state=HookDelivery.State.DELIVERED)
        .filter(~Q(state=HookDelivery.State.SENDING) | Q(claimed_until__lt=now))
        .update(state=HookDelivery.State.SENDING, claimed_until=now + CLAIM)
    )
    if not claimed:
        return False
    delivery = HookDelivery.objects.select_related("ticket", "level").get(pk=delivery_pk)
    status, error = None, ""
    try:
        if delivery.kind == HookDelivery.Kind.WEBHOOK:
            response = _post(delivery)
            status = response.status
            if not response.ok:
                error = f"HTTP {response.status} {response.reason}"
        else:
            _call(delivery)
    except http.OutboundError as failure:  # refused, unreachable, too slow, too large
        error = str(failure)
    except Exception as failure:  # any failure of foreign code is an attempt's outcome
        error = f"{type(failure).__name__}: {failure}"
    HookDelivery.objects.filter(pk=delivery_pk).update(
        state=HookDelivery.State.FAILED if error else HookDelivery.State.DELIVERED,
        attempts=delivery.attempts + 1,
        last_attempt_at=now,
        delivered_at=None if error else now,
        response_status=status,
        error=error[:2000],
        claimed_until=None,
    )
    if error:
        raise DeliveryFailed(f"{delivery.target}: {error}")
    return True


def _post(delivery: HookDelivery) -> http.Response:
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    return http.request(
        "POST",
        delivery.target,
        content=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "helpdesk-escalation",
            SIGNATURE_HEADER: sign(body),
            DELIVERY_HEADER: str(delivery.pk),
        },
        timeout=timeout(),
    )


def _call(delivery: HookDelivery) -> None:
    function = _registry.get(delivery.target)
    if function is None:
        raise LookupError(f"no hook named “{delivery.target}” is registered")
    # A failing hook leaves nothing half-done behind.
    with transaction.atomic():
        function(delivery.ticket, delivery.level)


# A hook that ships with the helpdesk: the escalation written into the timeline, where
# every agent on the request sees it.


@hook("add_internal_note")
def add_internal_note(ticket: Ticket, level: EscalationLevel | None) -> None:
    from tickets import workflow

    what = level.describe() if level else "a level since deleted"
    workflow.add_note(ticket, text=f"Escalated: {what}.", by=None)
