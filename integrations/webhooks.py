"""Signed webhook deliveries, for any feature that posts JSON to a configured URL
(automation rules and provisioning today, the API's subscriptions next).

    delivery = webhooks.enqueue(url=..., secret=..., event="request.updated",
                                payload={...}, topic="automation", reference="ticket:12")

The delivery is saved in the caller's transaction and attempted after it commits; an
answer other than 2xx, a timeout or a failed connection is tried again by beat
(`retry_due`) after BACKOFF, and given up after the last; a URL the outbound rules refuse
is given up at once. Every attempt is logged (DeliveryAttempt). The receiver gets:

    Content-Type: application/json
    X-Helpdesk-Event: request.updated
    X-Helpdesk-Delivery: <uuid, the same on every attempt: de-duplicate by it>
    X-Helpdesk-Timestamp: <unix seconds of this attempt>
    X-Helpdesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed by the secret>

and checks it as `verify` does: recompute the HMAC over the raw body, compare in
constant time, and refuse a timestamp more than five minutes off (a replay).
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations import http
from integrations.models import DeliveryAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

# A receiver that is down for maintenance is back within minutes, one that is broken
# within a day, when someone has noticed; past that, an admin redelivers by hand.
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
MAX_ATTEMPTS = len(BACKOFF) + 1
EXCERPT = 2000
TOLERANCE_SECONDS = 300

Callback = Callable[[WebhookDelivery, DeliveryAttempt], None]
_callbacks: dict[str, list[Callback]] = {}


def on_attempt(topic: str, callback: Callback) -> None:
    """Call `callback(delivery, attempt)` after each attempt of a delivery of `topic`,
    in the attempt's transaction (the provisioning answer is kept on its request so)."""
    listeners = _callbacks.setdefault(topic, [])
    if callback not in listeners:
        listeners.append(callback)


def forget(topic: str, callback: Callback) -> None:
    if callback in _callbacks.get(topic, []):
        _callbacks[topic].remove(callback)


def enqueue(
    *, url: str, secret: str, event: str, payload: dict, topic: str, reference: str = ""
) -> WebhookDelivery:
    """Save the delivery and attempt it once the caller's transaction commits. A URL of
    the wrong shape raises http.Refused and saves nothing."""
    http.check_url(url)
    json.dumps(payload)  # a payload that is not JSON fails here, not in a worker
    delivery = WebhookDelivery.objects.create(
        url=url.strip(),
        secret=secret,
        event=event,
        payload=payload,
        topic=topic,
        reference=reference[:200],
        next_attempt_at=timezone.now(),
    )
    from integrations import tasks

    transaction.on_commit(lambda: tasks.deliver_webhook.delay(delivery.pk), robust=True)
    return delivery


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether a delivery's headers prove it was signed with `secret` over this body,
    recently. What a receiver does; our own inbound webhooks do the same."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = int(lowered.get("x-helpdesk-timestamp", ""))
    except ValueError:
        return False
    moment = (now or timezone.now()).timestamp()
    if abs(moment - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, lowered.get("x-helpdesk-signature", ""))


def attempt_pending(delivery_pk: int, *, now: datetime | None = None) -> DeliveryAttempt | None:
    """Attempt the delivery if it is pending and due; None when it is not (a duplicate
    task, or one that comes after beat's retry, or another worker holds it)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_pk, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        return _attempt(delivery, now=now)


def retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat's step: attempt the pending deliveries whose time has come, at most `limit`,
    each in its own transaction under its row lock, so two workers never post the same
    one and a slow receiver holds no other row. Returns how many were attempted."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    return sum(
        attempt_pending(pk, now=now) is not None
        for pk in list(due.values_list("pk", flat=True)[:limit])
    )


def redeliver(delivery: WebhookDelivery, *, now: datetime | None = None) -> DeliveryAttempt:
    """An admin's "deliver again", in any state: one attempt now. It counts as a fresh
    delivery, so a failing receiver gets the whole backoff again."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.state, delivery.attempts = WebhookDelivery.State.PENDING, 0
        return _attempt(delivery, now=now or timezone.now())


def _attempt(delivery: WebhookDelivery, *, now: datetime) -> DeliveryAttempt:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.delivery_id),
        "X-Helpdesk-Timestamp": str(timestamp),
        "X-Helpdesk-Signature": sign(delivery.secret, timestamp, body),
    }
    started = time.perf_counter()
    status, error, excerpt, given_up = None, "", "", False
    try:
        response = http.request("POST", delivery.url, content=body, headers=headers)
        status = response.status
        excerpt = response.body[: EXCERPT * 4].decode("utf-8", errors="replace")[:EXCERPT]
        if not response.ok:
            error = f"HTTP {response.status} {response.reason}".strip()
    except http.Refused as refusal:
        error, given_up = str(refusal), True  # trying again will not help
    except http.OutboundError as failure:
        error = str(failure)
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery,
        at=now,
        status=status,
        error=error,
        duration_ms=round((time.perf_counter() - started) * 1000),
        response_excerpt=excerpt,
    )
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = status, error
    if not error:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
            WebhookDelivery.State.DELIVERED,
            now,
            None,
        )
    elif given_up or delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = WebhookDelivery.State.FAILED, None
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    delivery.save(
        update_fields=[
            "attempts", "last_status", "last_error", "state", "delivered_at", "next_attempt_at",
        ]
    )  # fmt: skip
    _tell(delivery, attempt)
    return attempt


def _tell(delivery: WebhookDelivery, attempt: DeliveryAttempt) -> None:
    for callback in _callbacks.get(delivery.topic, []):
        try:
            with transaction.atomic():
                callback(delivery, attempt)
        except Exception:
            # The attempt is recorded whatever the feature does with its answer.
            logger.exception("Webhook callback %r failed on delivery %s", callback, delivery.pk)
