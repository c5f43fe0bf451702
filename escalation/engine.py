"""The sweep: bounded, idempotent steps over the requests whose clocks are due.

Each step selects at most `size` due requests by an indexed due time (one partial index
per kind, see Ticket.Meta.indexes), locks them with SKIP LOCKED so a concurrent sweep
takes other rows, and hands the batch to tickets.workflow, which checks under the lock
that each request is still due and writes the whole batch with a few statements. Two
sweeps at once therefore never act on the same request twice, and a sweep's cost follows
the number of due requests, not the number of requests.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from escalation import notifications
from escalation.models import Notification
from tickets import workflow
from tickets.models import EscalationLevel, Ticket
from tickets.replies import render_template

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Per kind and run; whatever is left is for the next run a minute later.
MAX_PER_RUN = 20_000


@dataclass
class SweepResult:
    escalated: int = 0
    alerted: int = 0
    overdue: int = 0
    woken: int = 0

    def __str__(self):
        return (
            f"escalated {self.escalated}, alerted {self.alerted}, "
            f"overdue {self.overdue}, woken {self.woken}"
        )


@dataclass
class Batch:
    handled: int
    selected: int
    last: tuple[datetime, int] | None  # the keyset position after this batch


def sweep(
    *, now: datetime | None = None, size: int = BATCH_SIZE, limit: int = MAX_PER_RUN
) -> SweepResult:
    """One run of every clock: escalations, New-stage alerts, passed deadlines and
    postponed requests whose time has come, each in batches of `size`."""
    now = now or timezone.now()
    return SweepResult(
        escalated=_drain(escalate_due, now=now, size=size, limit=limit),
        alerted=_drain(alert_due, now=now, size=size, limit=limit),
        overdue=_drain(flag_overdue_due, now=now, size=size, limit=limit),
        woken=_drain(wake_due, now=now, size=size, limit=limit),
    )


def _drain(step: Callable[..., Batch], *, now: datetime, size: int, limit: int) -> int:
    # The keyset moves past every row a batch selected, handled or not, so a request
    # that keeps failing cannot hold up the ones behind it.
    handled = seen = 0
    after = None
    while seen < limit:
        wanted = min(size, limit - seen)
        batch = step(now, size=wanted, after=after)
        handled += batch.handled
        seen += batch.selected
        if batch.selected < wanted:
            break
        after = batch.last
    return handled


def escalate_due(now: datetime, *, size: int = BATCH_SIZE, after=None) -> Batch:
    return _step(
        Ticket.objects.due_for_escalation(now), "next_escalation_at", escalate, now, size, after
    )


def alert_due(now: datetime, *, size: int = BATCH_SIZE, after=None) -> Batch:
    return _step(Ticket.objects.due_for_alert(now), "alert_at", alert, now, size, after)


def flag_overdue_due(now: datetime, *, size: int = BATCH_SIZE, after=None) -> Batch:
    return _step(Ticket.objects.due_for_deadline(now), "deadline", overdue, now, size, after)


def wake_due(now: datetime, *, size: int = BATCH_SIZE, after=None) -> Batch:
    return _step(Ticket.objects.due_to_wake(now), "postponed_until", wake, now, size, after)


Handler = Callable[[list[Ticket], datetime], int]


def _step(
    due: QuerySet,
    field: str,
    handle: Handler,
    now: datetime,
    size: int,
    after: tuple[datetime, int] | None,
) -> Batch:
    with transaction.atomic():
        tickets = list(batch_of(due, field, size, after))
        # Taken before handling: handling moves the due time on (or clears it).
        last = (getattr(tickets[-1], field), tickets[-1].pk) if tickets else None
        handled = _safely(handle, tickets, now) if tickets else 0
    return Batch(handled=handled, selected=len(tickets), last=last)


def batch_of(due: QuerySet, field: str, size: int, after=None) -> QuerySet:
    """The next `size` due requests in due order after the keyset position `after`,
    locked; rows another sweep holds are skipped, not waited for."""
    if after is not None:
        due = due.filter(
            Q(**{f"{field}__gt": after[0]}) | Q(**{field: after[0], "pk__gt": after[1]})
        )
    return (
        due.select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "owner", "priority")
        .order_by(field, "pk")[:size]
    )


def _safely(handle: Handler, tickets: list[Ticket], now: datetime) -> int:
    """The whole batch at once; should that fail, each request on its own, so a failing
    request is logged and rolled back alone and the others go on."""
    try:
        with transaction.atomic():
            return handle(tickets, now)
    except Exception:
        if len(tickets) == 1:
            logger.exception("The sweep could not handle %s", tickets[0].number)
            return 0
        logger.warning("A sweep batch failed; handling its %d requests one by one", len(tickets))
    for ticket in tickets:
        ticket.refresh_from_db()  # forget what the rolled-back attempt changed in memory
    return sum(_safely(handle, [ticket], now) for ticket in tickets)


# Handlers: each gets a locked batch and returns how many it handled ----------------------


def escalate(tickets: list[Ticket], now: datetime) -> int:
    """One level each: delegation first (so "notify the owner" reaches a new owner), then
    the action, each once, in the batch's transaction; the level's hook follows its
    commit (escalation.subscribers.call_hooks)."""
    reached = workflow.escalate_tickets(tickets, now=now)
    for ticket, level in reached:
        if level.delegate_to_user_id or level.delegate_to_team_id:
            workflow.assign_ticket(
                ticket,
                by=None,
                owner=level.delegate_to_user if level.delegate_to_user_id else workflow.UNSET,
                team=level.delegate_to_team if level.delegate_to_team_id else workflow.UNSET,
                now=now,
            )
    _run_actions(reached, now)
    return len(reached)


def _run_actions(reached: list[tuple[Ticket, EscalationLevel]], now: datetime) -> None:
    action = EscalationLevel.Action
    recipients = _Recipients()
    notices = []
    for ticket, level in reached:
        if level.action in (action.NOTIFY_OWNER, action.NOTIFY_TEAM, action.NOTIFY_ADDRESS):
            users = {
                action.NOTIFY_OWNER: recipients.owner_or_team,
                action.NOTIFY_TEAM: recipients.team_or_queue,
                action.NOTIFY_ADDRESS: lambda ticket: [],
            }[level.action](ticket)
            address = level.notify_address if level.action == action.NOTIFY_ADDRESS else ""
            text = _escalation_text(ticket, level)
            notices.append(notifications.Notice(ticket, text, users, address, level.describe()))
    notifications.tell(notices, kind=Notification.Kind.ESCALATION, now=now)
    unread: dict[EscalationLevel, list[Ticket]] = {}
    for ticket, level in reached:
        if level.action == action.MARK_UNREAD:
            unread.setdefault(level, []).append(ticket)
    for level, tickets in unread.items():
        workflow.mark_many_unread(tickets, by=None, reason=level.describe(), now=now)
    for ticket, level in reached:
        raise_to = level.raise_to
        if level.action == action.RAISE_PRIORITY and raise_to.rank > ticket.priority.rank:
            workflow.update_ticket(ticket, by=None, priority=raise_to, now=now)


def _escalation_text(ticket: Ticket, level: EscalationLevel) -> str:
    if level.template_id:
        return render_template(level.template, ticket, ticket.owner)[1]
    return (
        f"{ticket.number} “{ticket.subject}” escalated to level {level.alert_level} "
        f"({ticket.priority} priority)."
    )


def alert(tickets: list[Ticket], now: datetime) -> int:
    alerted = workflow.raise_alerts(tickets, now=now)
    recipients = _Recipients()
    notifications.tell(
        [
            notifications.Notice(
                ticket,
                f"{ticket.number} “{ticket.subject}” is still new past its alert time.",
                recipients.owner_or_team(ticket) or recipients.team_or_queue(ticket),
            )
            for ticket in alerted
        ],
        kind=Notification.Kind.ALERT,
        now=now,
    )
    return len(alerted)


def overdue(tickets: list[Ticket], now: datetime) -> int:
    flagged = workflow.flag_overdue(tickets, now=now)
    recipients = _Recipients()
    notifications.tell(
        [
            notifications.Notice(
                ticket,
                f"{ticket.number} “{ticket.subject}” has passed its deadline "
                f"({timezone.localtime(ticket.deadline):%Y-%m-%d %H:%M}).",
                recipients.owner_or_team(ticket) or recipients.team_or_queue(ticket),
            )
            for ticket in flagged
        ],
        kind=Notification.Kind.OVERDUE,
        now=now,
    )
    return len(flagged)


def wake(tickets: list[Ticket], now: datetime) -> int:
    return sum(workflow.wake_ticket(ticket, now=now) is not None for ticket in tickets)


class _Recipients:
    """Whom to tell, with each team's and queue's agents looked up once per batch."""

    def __init__(self):
        self._teams: dict[int, list] = {}
        self._queues: dict[int, list] = {}

    def owner_or_team(self, ticket: Ticket) -> list:
        """The owner; a request without one, its team."""
        if ticket.owner_id:
            return [ticket.owner]
        return self._team(ticket.team_id) if ticket.team_id else []

    def team_or_queue(self, ticket: Ticket) -> list:
        """The request's team; without one, the agents who work its queue."""
        if ticket.team_id:
            return self._team(ticket.team_id)
        if ticket.queue_id not in self._queues:
            self._queues[ticket.queue_id] = list(
                _agents()
                .filter(Q(member_queues=ticket.queue_id) | Q(groups__member_queues=ticket.queue_id))
                .distinct()
            )
        return self._queues[ticket.queue_id]

    def _team(self, team_id: int) -> list:
        if team_id not in self._teams:
            self._teams[team_id] = list(_agents().filter(groups=team_id))
        return self._teams[team_id]


def _agents() -> QuerySet:
    return get_user_model().objects.filter(is_active=True)
