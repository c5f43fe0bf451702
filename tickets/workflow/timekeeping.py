"""The clocks (deadline, alert time, escalation chain) and the time counters of a request."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from tickets import clocks
from tickets.models import Priority, Queue, QueuePriorityTime, Stage, Status, Ticket, TimeCounter
from tickets.workflow.core import _Change

# Clocks -------------------------------------------------------------------------------
#
# The due times live on the request: deadline (completion time from creation), alert_at
# (alert time from creation, while New), escalation_level and next_escalation_at (the
# priority's chain). They count business time when the queue has a calendar. While the
# request is not active they stand still; resuming adds the time they stood still, so the
# time already used stays used.


def _calendar(queue: Queue) -> clocks.Calendar | None:
    return queue.calendar.as_calendar() if queue.calendar_id else None


def _plan_clocks(
    change: _Change, *, restart_chain: bool = False, calendar: clocks.Calendar | None = None
) -> None:
    """Plan deadline and alert time from the queue's times for the priority (alert only
    while New), counting the time the clocks stood still; with `restart_chain` the
    priority's escalation chain starts over from now."""
    ticket = change.ticket
    calendar = calendar or _calendar(ticket.queue)
    paused = timedelta(seconds=ticket.clocks_paused_seconds)
    if ticket.clocks_paused_at is not None:
        paused += clocks.business_time_between(ticket.clocks_paused_at, change.now, calendar)
    deadline, alert_at = due_times(
        ticket.created_at,
        _priority_time(ticket.queue, ticket.priority),
        is_new=ticket.stage.state == Stage.State.NEW,
        calendar=calendar,
        paused=paused,
    )
    for passed, due in ((OVERDUE, deadline), (ALERT, alert_at)):
        change.set_quietly(passed.due, due)
        # A flag belongs to the due time it was raised for: one moved into the future
        # can go off again.
        if due is None or due > change.now:
            change.set_quietly(passed.flag, None)
    if restart_chain:
        _start_chain(change, calendar)


def due_times(
    created_at: datetime,
    times: QueuePriorityTime | None,
    *,
    is_new: bool,
    calendar: clocks.Calendar | None,
    paused: timedelta = timedelta(0),
) -> tuple[datetime | None, datetime | None]:
    """The deadline and the alert time (only while New) of a request created at
    `created_at` with its queue's `times` for its priority, the clocks having stood still
    for `paused`. The workflow plans with it; seed_bulk too, for the requests it loads."""

    def after(minutes: int | None) -> datetime | None:
        if minutes is None:
            return None
        return clocks.add_business_time(created_at, timedelta(minutes=minutes) + paused, calendar)

    if times is None:
        return None, None
    return after(times.completion_minutes), after(times.alert_minutes if is_new else None)


def _priority_time(queue: Queue, priority: Priority) -> QueuePriorityTime | None:
    # Through the queue's relation, so a queue loaded with its times (the mail gateway
    # loads it once per poll) answers without a query.
    return next((t for t in queue.priority_times.all() if t.priority_id == priority.pk), None)


def _start_chain(change: _Change, calendar: clocks.Calendar | None) -> None:
    ticket = change.ticket
    # Through the priority's relation, so a prefetched chain answers without a query.
    levels = ticket.priority.escalation_levels.all()
    first = min(levels, key=lambda level: level.alert_level, default=None)
    # A chain (re)started while the clocks stand still starts counting when they resume.
    start = ticket.clocks_paused_at or change.now
    change.set_quietly("escalation_level", 0)
    change.set_quietly(
        "next_escalation_at", clocks.add_minutes(start, first.minutes, calendar) if first else None
    )


def _resume_clocks(change: _Change) -> None:
    """Count the time the clocks stood still and move every due time on by it."""
    ticket = change.ticket
    if ticket.clocks_paused_at is None:
        return
    calendar = _calendar(ticket.queue)
    paused = clocks.business_time_between(ticket.clocks_paused_at, change.now, calendar)
    change.set_quietly(
        "clocks_paused_seconds", ticket.clocks_paused_seconds + int(paused.total_seconds())
    )
    if ticket.next_escalation_at is not None:
        change.set_quietly(
            "next_escalation_at",
            clocks.add_business_time(ticket.next_escalation_at, paused, calendar),
        )
    change.set_quietly("clocks_paused_at", None)
    _plan_clocks(change, calendar=calendar)


class PassedDue(NamedTuple):
    """A due time the sweep watches: its field, the field flagging it passed, and the
    event that records it."""

    due: str
    flag: str
    action: str
    reason: str


ALERT = PassedDue("alert_at", "alerted_at", "alerted", "Still new past its alert time.")
OVERDUE = PassedDue("deadline", "overdue_flagged_at", "overdue", "The deadline has passed.")


def _calendars(tickets: Iterable[Ticket]) -> dict[int, clocks.Calendar | None]:
    """Each request's calendar by queue id, each calendar loaded once."""
    loaded: dict[int, clocks.Calendar] = {}
    by_queue = {}
    for ticket in tickets:
        calendar_id = ticket.queue.calendar_id
        if calendar_id and calendar_id not in loaded:
            loaded[calendar_id] = ticket.queue.calendar.as_calendar()
        by_queue[ticket.queue_id] = loaded.get(calendar_id)
    return by_queue


# Time spent -----------------------------------------------------------------------------


def _running_counter(ticket: Ticket) -> str:
    """Queue while nobody has the request, internal while an agent or a colleague has it,
    external while an outside party it was forwarded to has not answered."""
    if ticket.base_status not in (Status.Base.ACTIVE, Status.Base.POSTPONED):
        return TimeCounter.NONE
    if ticket.awaiting_external:
        return TimeCounter.EXTERNAL
    if ticket.owner_id is not None or ticket.collaborators.exists():
        return TimeCounter.INTERNAL
    return TimeCounter.QUEUE


def _switch_counter(change: _Change) -> None:
    """Add the running counter's time up to now and start the one that runs from now."""
    ticket = change.ticket
    wanted = _running_counter(ticket)
    if wanted == ticket.time_counter:
        return
    if ticket.time_counter and ticket.time_counter_since is not None:
        field = f"{ticket.time_counter}_seconds"
        spent = max(int((change.now - ticket.time_counter_since).total_seconds()), 0)
        change.set_quietly(field, getattr(ticket, field) + spent)
    change.set_quietly("time_counter", wanted)
    change.set_quietly("time_counter_since", change.now if wanted else None)
