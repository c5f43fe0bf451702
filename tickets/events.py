"""Domain events: what happened to a request, told to the apps that react to it.

The workflow records an event in the same transaction as the change it tells of; once that
transaction commits, each subscriber for the event's name is called with it. Apps
subscribe in their AppConfig.ready(), so `tickets` never imports the apps that react to
it (escalation's notifications and hooks, the mail gateway's outbound mail, later
automations and reports):

    events.subscribe(events.OWNER_CHANGED, notify_new_owner, key="escalation.notify_owner")

A few subscribers must be part of the change itself: `subscribe_within` calls them in the
step's own transaction as the event is published, so what they write is saved or rolled
back with the change, and if they raise the step fails (billing's invoice on a resolved
close: never a closed request without its invoice, never two). Keep them short and sure.

A subscriber runs in its own transaction, together with the mark that it is done, so
what it writes happens once: a subscriber that raises is rolled back, logged and tried
again by the re-dispatch step (Celery beat) until it succeeds or MAX_ATTEMPTS is spent,
while the others are not run twice. The payload is small (ids and names, JSON): a
subscriber reads what else it needs.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tickets.models import DomainEvent, Message, Ticket

logger = logging.getLogger(__name__)

CREATED = "created"
UPDATED = "updated"  # payload "fields", "changes": {field: [old, new]}, rows by id
PROGRESSED = "progressed"
REGRESSED = "regressed"
CLOSED = "closed"  # payload field "resolved", new: true or false
REOPENED = "reopened"
NOTE_ADDED = "note_added"
NOTE_UPDATED = "note_updated"
OWNER_CHANGED = "owner_changed"
APPROVAL_REQUESTED = "approval_requested"
APPROVAL_GIVEN = "approval_given"
APPROVAL_REFUSED = "approval_refused"
MESSAGE_RECEIVED = "message_received"
MESSAGE_SENT = "message_sent"
COLLEAGUE_ASKED = "colleague_asked"
ESCALATED = "escalated"
ACTIVITY_SCHEDULED = "activity_scheduled"  # payload "activity": its id
ACTIVITY_CLOSED = "activity_closed"  # payload "activity", "state": done or cancelled
# A process step is done (submitted, and approved where it must be): payload "run",
# "step", "process" (ids). Told by the processes app through workflow.record_change.
PROCESS_STEP_DONE = "process_step_done"

NAMES = (
    CREATED,
    UPDATED,
    PROGRESSED,
    REGRESSED,
    CLOSED,
    REOPENED,
    NOTE_ADDED,
    NOTE_UPDATED,
    OWNER_CHANGED,
    APPROVAL_REQUESTED,
    APPROVAL_GIVEN,
    APPROVAL_REFUSED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    COLLEAGUE_ASKED,
    ESCALATED,
    ACTIVITY_SCHEDULED,
    ACTIVITY_CLOSED,
    PROCESS_STEP_DONE,
)

MAX_ATTEMPTS = 10
RETRY_AFTER = timedelta(minutes=1)  # an event this old and undispatched was missed

Handler = Callable[[DomainEvent], None]


@dataclass(frozen=True)
class Subscriber:
    key: str
    handler: Handler
    when: Callable[[DomainEvent], bool] | None = None

    def wants(self, domain_event: DomainEvent) -> bool:
        return self.when is None or self.when(domain_event)


_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(
    names: str | Iterable[str],
    handler: Handler,
    *,
    key: str,
    when: Callable[[DomainEvent], bool] | None = None,
) -> None:
    """Call `handler(event)` after the commit of every event of these names (for which
    `when(event)`, a test of the payload alone, holds: the others cost no transaction).
    `key` names the subscriber in the events' `handled` list; keep it stable across
    releases."""
    for name in [names] if isinstance(names, str) else names:
        if name not in NAMES:
            raise ValueError(f"No domain event is called {name!r}.")
        listeners = _subscribers.setdefault(name, [])
        if all(subscriber.key != key for subscriber in listeners):
            listeners.append(Subscriber(key, handler, when))


_within: dict[str, list[Subscriber]] = {}


def subscribe_within(names: str | Iterable[str], handler: Handler, *, key: str) -> None:
    """Call `handler(event)` inside the transaction of the step that tells the event (the
    event is not saved yet: its ticket, actor and payload are set)."""
    for name in [names] if isinstance(names, str) else names:
        if name not in NAMES:
            raise ValueError(f"No domain event is called {name!r}.")
        listeners = _within.setdefault(name, [])
        if all(subscriber.key != key for subscriber in listeners):
            listeners.append(Subscriber(key, handler))


def opened_through(channel: str) -> Callable[[DomainEvent], bool]:
    """A `when` for CREATED: the request came in through `channel` (a Channel value)."""
    return lambda event: event.payload.get("channel") == channel


def sent_by_sms(event: DomainEvent) -> bool:
    """A `when` for MESSAGE_SENT: the message goes as an SMS (older events, without a
    kind, were all email)."""
    return event.payload.get("kind") == Message.Kind.SMS


def subscribers(name: str) -> list[Subscriber]:
    return _subscribers.get(name, [])


def event(
    name: str, ticket: Ticket | None, *, by=None, at: datetime | None = None, **payload
) -> DomainEvent:
    """An unsaved event; `publish` saves it with the others of the same change."""
    if name not in NAMES:
        raise ValueError(f"No domain event is called {name!r}.")
    return DomainEvent(
        name=name,
        ticket=ticket,
        actor=by if getattr(by, "pk", None) else None,
        at=at or timezone.now(),
        payload=payload,
    )


def publish(events: Iterable[DomainEvent]) -> list[DomainEvent]:
    """Save the events in the current transaction and dispatch them after it commits. An
    event no subscriber wants is neither saved nor dispatched: the history (Event) keeps
    what happened, and a bulk step (the sweep) pays nothing for events nobody reads."""
    events = list(events)
    for domain_event in events:
        for subscriber in _within.get(domain_event.name, []):
            subscriber.handler(domain_event)
    events = [e for e in events if any(s.wants(e) for s in subscribers(e.name))]
    if not events:
        return []
    DomainEvent.objects.bulk_create(events)
    waiting = [e.pk for e in events]
    # robust: a failing subscriber must not turn the committed change into an error page;
    # the re-dispatch step tries it again.
    transaction.on_commit(lambda: dispatch(waiting), robust=True)
    return events


def dispatch(event_pks: Iterable[int], *, now: datetime | None = None) -> int:
    """Run the subscribers each event still waits for; returns how many events are done."""
    done = 0
    for domain_event in DomainEvent.objects.filter(pk__in=list(event_pks), dispatched_at=None):
        done += _dispatch_one(domain_event, now=now)
    return done


def _dispatch_one(domain_event: DomainEvent, *, now: datetime | None) -> bool:
    errors = []
    for subscriber in subscribers(domain_event.name):
        if subscriber.key in domain_event.handled or not subscriber.wants(domain_event):
            continue
        try:
            with transaction.atomic():
                # The lock makes a concurrent dispatch of the same event wait, then see
                # this subscriber in `handled` and skip it.
                locked = DomainEvent.objects.select_for_update().get(pk=domain_event.pk)
                if subscriber.key in locked.handled:
                    continue
                subscriber.handler(locked)
                locked.handled = [*locked.handled, subscriber.key]
                locked.save(update_fields=["handled"])
                domain_event.handled = locked.handled
        except Exception as error:
            logger.exception("Subscriber %s failed on event %s", subscriber.key, domain_event.pk)
            errors.append(f"{subscriber.key}: {error}")
    if errors:
        DomainEvent.objects.filter(pk=domain_event.pk).update(
            attempts=domain_event.attempts + 1, last_error="\n".join(errors)[:2000]
        )
        return False
    DomainEvent.objects.filter(pk=domain_event.pk).update(
        dispatched_at=now or timezone.now(), last_error=""
    )
    return True


def redispatch_missed(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat's step: dispatch the events whose after-commit dispatch failed or never ran (a
    crash between commit and dispatch). Bounded; returns how many are done now."""
    now = now or timezone.now()
    missed = (
        DomainEvent.objects.filter(
            dispatched_at=None, at__lte=now - RETRY_AFTER, attempts__lt=MAX_ATTEMPTS
        )
        .order_by("at")
        .values_list("pk", flat=True)[:limit]
    )
    return dispatch(list(missed), now=now)
