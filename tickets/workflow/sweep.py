"""The escalation sweep's steps, and the notifications it sends.

The sweep (escalation.engine) locks a batch of due requests with one SELECT ... FOR
UPDATE SKIP LOCKED and hands the whole batch to these steps, which check each request is
still due, then write all of them with one UPDATE per set of new values and one INSERT of
events: a thousand escalations take a handful of queries, not thousands.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets import clocks, events
from tickets.models import EscalationLevel, Event, Status, Ticket
from tickets.workflow.core import Actor, _Change, _ensure_editable, _lock
from tickets.workflow.lifecycle import reactivate_ticket
from tickets.workflow.timekeeping import ALERT, OVERDUE, PassedDue, _calendars


def _save_many(changes: list[_Change]) -> None:
    """Save many changes: one UPDATE per set of identical new values (a batch mostly
    shares them: the same level reached, the same next time), one INSERT of events."""
    groups: dict[tuple, list[int]] = {}
    for change in changes:
        if not change.fields:
            continue
        change.ticket.updated_at = change.now
        values = tuple(
            sorted(
                (field.attname, getattr(change.ticket, field.attname))
                for field in map(Ticket._meta.get_field, change.fields | {"updated_at"})
            )
        )
        groups.setdefault(values, []).append(change.ticket.pk)
    for values, pks in groups.items():
        Ticket.objects.filter(pk__in=pks).update(**dict(values))
    Event.objects.bulk_create(event for change in changes for event in change.events)
    events.publish(event for change in changes for event in change.announcements())


@transaction.atomic
def escalate_tickets(
    tickets: list[Ticket], *, now: datetime | None = None
) -> list[tuple[Ticket, EscalationLevel]]:
    """Move each request whose next escalation time has come one level up its priority's
    chain and plan the level after it; a request past its chain's last level stops.

    The caller holds the requests' row locks in this transaction. Returns the requests
    that reached a level, with the level: the caller runs its delegation, action and
    hook. A request no longer due (another worker got there first) is left alone."""
    now = now or timezone.now()
    due = [
        ticket
        for ticket in tickets
        if ticket.base_status == Status.Base.ACTIVE
        and ticket.next_escalation_at is not None
        and ticket.next_escalation_at <= now
    ]
    chains: dict[int, list[EscalationLevel]] = {}
    for level in EscalationLevel.objects.filter(
        priority__in={ticket.priority_id for ticket in due}
    ).select_related("priority", "raise_to", "delegate_to_user", "delegate_to_team"):
        chains.setdefault(level.priority_id, []).append(level)
    calendars = _calendars(due)
    reached, changes = [], []
    for ticket in due:
        chain = sorted(chains.get(ticket.priority_id, []), key=lambda level: level.alert_level)
        following = [level for level in chain if level.alert_level > ticket.escalation_level]
        change = _Change(ticket, by=None, now=now)
        changes.append(change)
        if not following:
            change.set_quietly("next_escalation_at", None)
            continue
        level = following[0]
        # The level in the payload; "hooked" lets the hooks' subscriber want only the
        # levels that call out, so a sweep without hooks dispatches nothing.
        change.tell(
            events.ESCALATED,
            field="escalation_level",
            old=ticket.escalation_level,
            new=level.alert_level,
            level=level.pk,
            hooked=bool(level.hook_name or level.webhook_url),
        )
        change.set(
            "escalation_level", level.alert_level, action="escalated", reason=level.describe()
        )
        after = following[1] if len(following) > 1 else None
        change.set_quietly(
            "next_escalation_at",
            clocks.add_minutes(now, after.minutes, calendars[ticket.queue_id]) if after else None,
        )
        reached.append((ticket, level))
    _save_many(changes)
    return reached


def _flag_passed(tickets: list[Ticket], passed_due: PassedDue, *, now: datetime) -> list[Ticket]:
    """Record, once, that each active request's due time has passed, in its flag field.
    The caller holds the row locks; returns the requests flagged now."""
    due, flag = passed_due.due, passed_due.flag
    passed = [
        ticket
        for ticket in tickets
        if ticket.base_status == Status.Base.ACTIVE
        and getattr(ticket, flag) is None
        and getattr(ticket, due) is not None
        and getattr(ticket, due) <= now
    ]
    changes = [_Change(ticket, by=None, now=now) for ticket in passed]
    for change in changes:
        change.set(flag, now, action=passed_due.action, reason=passed_due.reason)
    _save_many(changes)
    return passed


@transaction.atomic
def raise_alerts(tickets: list[Ticket], *, now: datetime | None = None) -> list[Ticket]:
    """Record for each request that it stayed New past its alert time."""
    return _flag_passed(tickets, ALERT, now=now or timezone.now())


@transaction.atomic
def flag_overdue(tickets: list[Ticket], *, now: datetime | None = None) -> list[Ticket]:
    """Record for each request that its deadline has passed."""
    return _flag_passed(tickets, OVERDUE, now=now or timezone.now())


@transaction.atomic
def wake_ticket(ticket: Ticket, *, now: datetime | None = None) -> Ticket | None:
    """Reactivate a postponed request whose time has come; None when it is not due."""
    _lock(ticket)
    now = now or timezone.now()
    if ticket.base_status != Status.Base.POSTPONED or ticket.postponed_until is None:
        return None
    if ticket.postponed_until > now:
        return None
    return reactivate_ticket(
        ticket,
        by=None,
        reason=f"Postponed until {ticket.postponed_until:%Y-%m-%d %H:%M %Z}; that time has come.",
        now=now,
    )


@transaction.atomic
def mark_unread(
    ticket: Ticket, *, by: Actor, reason: str = "", now: datetime | None = None
) -> Ticket:
    """Make the request unread for its owner again (an escalation action)."""
    _lock(ticket)
    _ensure_editable(ticket)
    mark_many_unread([ticket], by=by, reason=reason, now=now)
    return ticket


@transaction.atomic
def mark_many_unread(
    tickets: list[Ticket], *, by: Actor, reason: str = "", now: datetime | None = None
) -> None:
    """mark_unread for requests whose row locks the caller holds (the sweep)."""
    now = now or timezone.now()
    changes = [_Change(ticket, by=by, now=now) for ticket in tickets if not ticket.is_read_only]
    for change in changes:
        change.set("is_unread", True, action="marked_unread", reason=reason)
    _save_many(changes)


@transaction.atomic
def record_notified(
    told: Iterable[tuple[Ticket, list[str], str]], *, by: Actor = None, now: datetime | None = None
) -> None:
    """Keep in each request's history whom the escalation told (names or addresses), with
    the reason: one INSERT for them all."""
    now = now or timezone.now()
    changes = []
    for ticket, names, reason in told:
        change = _Change(ticket, by=by, now=now)
        change.log(
            "notified", field="notification", new=", ".join(names) or "nobody", reason=reason
        )
        changes.append(change)
    _save_many(changes)
