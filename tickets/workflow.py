"""Every state change of a request, in one place.

Admin, agent views, portal, mail gateway, Celery tasks and the API call these functions;
nobody else sets a request's status, stage or owner and saves it. Each function runs in
one transaction, locks the request's row, and writes an Event for every change it makes.
A step the rules forbid raises WorkflowError with a message meant for a person.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from escalation import clocks, notifications
from escalation.models import EscalationLevel, Notification
from mailgateway import outbound
from mailgateway.tasks import send_message
from tickets import approvals
from tickets.models import (
    Approval,
    Attachment,
    Category,
    Channel,
    Contact,
    Event,
    Level,
    Message,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    Stage,
    Status,
    Tag,
    Ticket,
    TimeCounter,
)
from tickets.numbering import next_number

Actor = AbstractBaseUser | None


class WorkflowError(Exception):
    """A step the rules forbid. Its message is shown to the person who asked for it."""


class StaleEdit(WorkflowError):
    """The request changed since the person loaded it; their edit would overwrite that."""


class Unset:
    """The default of a keyword that was not given, where None is a value."""

    def __repr__(self):
        return "UNSET"


UNSET = Unset()


class _Change:
    """Collects one call's field changes and their events, then saves them together."""

    def __init__(self, ticket: Ticket, *, by: Actor, now: datetime | None = None):
        self.ticket = ticket
        self.by = by
        self.now = now or timezone.now()
        self.fields: set[str] = set()
        self.events: list[Event] = []

    def set(self, field: str, value, *, action: str = "changed", reason: str = "") -> bool:
        old = getattr(self.ticket, field)
        if old == value:
            return False
        setattr(self.ticket, field, value)
        self.fields.add(field)
        self.log(action, field=field, old=old, new=value, reason=reason)
        return True

    def set_quietly(self, field: str, value) -> None:
        """A derived field (base status, clocks) whose change another event already tells."""
        if getattr(self.ticket, field) != value:
            setattr(self.ticket, field, value)
            self.fields.add(field)

    def log(self, action: str, *, field: str = "", old="", new="", reason: str = "", ticket=None):
        self.events.append(
            Event(
                ticket=ticket or self.ticket,
                actor=self.by,
                at=self.now,
                action=action,
                field=field,
                old_value=_display(old),
                new_value=_display(new),
                reason=reason,
            )
        )

    def save(self) -> Ticket:
        if self.fields:
            self.ticket.updated_at = self.now
            self.ticket.save(update_fields=sorted(self.fields | {"updated_at"}))
        Event.objects.bulk_create(self.events)
        return self.ticket


def _display(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    return str(value)


_RELATIONS = [field for field in Ticket._meta.concrete_fields if field.is_relation]


def _lock(ticket: Ticket) -> Ticket:
    """Take the request's row lock and reload it, so concurrent changes queue up.

    Related objects the caller had loaded (queue, contact, owner, status...) stay loaded
    when the reloaded row still points at them: the step need not fetch them again."""
    loaded = {
        field: field.get_cached_value(ticket) for field in _RELATIONS if field.is_cached(ticket)
    }
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update())
    for field, related in loaded.items():
        if getattr(ticket, field.attname) == (related.pk if related is not None else None):
            field.set_cached_value(ticket, related)
    return ticket


def _ensure_fresh(ticket: Ticket, seen_at: datetime | None) -> None:
    if seen_at is not None and ticket.updated_at != seen_at:
        raise StaleEdit(
            f"{ticket.number} was changed by someone else since you opened it; "
            "reload it and make your change again."
        )


def _ensure_editable(ticket: Ticket) -> None:
    if ticket.base_status == Status.Base.MERGED:
        raise WorkflowError(
            f"{ticket.number} was merged into {ticket.merged_into.number} and is read-only."
        )
    if ticket.base_status == Status.Base.DELETED:
        raise WorkflowError(f"{ticket.number} is deleted; restore it first.")


def _ensure_open(ticket: Ticket, doing: str) -> None:
    _ensure_editable(ticket)
    if ticket.base_status == Status.Base.CLOSED:
        raise WorkflowError(f"{ticket.number} is closed; reactivate it before you {doing}.")


def _set_status(change: _Change, status: Status, *, reason: str = "") -> None:
    """Every status change goes through here, so the clocks stop when a request stops
    being active, resume when it becomes active again, and the time counter follows."""
    was_active = change.ticket.base_status == Status.Base.ACTIVE
    change.set("status", status, action="status_changed", reason=reason)
    change.set_quietly("base_status", status.base)
    is_active = status.base == Status.Base.ACTIVE
    if was_active and not is_active:
        change.set_quietly("clocks_paused_at", change.now)
    elif is_active and not was_active:
        _resume_clocks(change)
    _switch_counter(change)


def _status_for(base: str, status: Status | None) -> Status:
    if status is None:
        return Status.builtin(base)
    if status.base != base:
        raise WorkflowError(f"“{status.name}” is a {status.get_base_display().lower()} status.")
    return status


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


def _default_priority(
    *, queue: Queue, category: Category | None, impact: str | None, urgency: str | None
) -> Priority:
    """Explicit impact/urgency pick a cell of the priority model; otherwise the category's
    rule, the queue's default, then the model's medium × medium cell."""
    if impact is not None or urgency is not None:
        found = PriorityRule.priority_for(impact or Level.MEDIUM, urgency or Level.MEDIUM)
        if found:
            return found
    found = (
        (category.rule("default_priority") if category else None)
        or queue.default_priority
        or PriorityRule.priority_for(Level.MEDIUM, Level.MEDIUM)
        or Priority.objects.order_by("rank").first()
    )
    if found is None:
        raise WorkflowError("No priority is configured yet; an admin must add one first.")
    return found


FIRST_MESSAGE_KIND = {
    Channel.EMAIL: Message.Kind.EMAIL,
    Channel.PHONE: Message.Kind.PHONE,
    Channel.PORTAL: Message.Kind.PORTAL,
    Channel.SMS: Message.Kind.SMS,
    Channel.INTERNAL: Message.Kind.NOTE,
    Channel.API: Message.Kind.PORTAL,
}


# Channels on which the person registering a request is an agent who then handles it (by
# email or on the portal it is the customer).
AGENT_CHANNELS = {Channel.PHONE, Channel.INTERNAL, Channel.SMS, Channel.API}


@transaction.atomic
def create_ticket(
    *,
    queue: Queue,
    subject: str,
    by: Actor,
    channel: str = Channel.EMAIL,
    contact: Contact | None = None,
    body: str = "",
    body_html: str = "",
    category: Category | None = None,
    priority: Priority | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    owner: AbstractBaseUser | None = None,
    team: Group | None = None,
    tags: Iterable[Tag | str] = (),
    time_units: int = 0,
    outbound_email: bool = False,
    attachments: Iterable = (),
    message_headers: dict | None = None,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Register a request: its number, its defaults, its first message and its event.

    The first message comes from the contact (an email, the content of a phone call, a
    portal message); an internal request's first message is an internal note. With
    `outbound_email` an agent opens the request by writing to the contact: the first
    message is that email, and it is sent. `message_headers` are further fields of the
    first message as it arrived (from/to/cc, Message-ID and threading headers, raw
    source, its own subject). The request starts with the built-in active `status` or
    the active one given (a caller creating many passes the one it loaded once).

    The first message is returned as `ticket.first_message`.
    """
    now = now or timezone.now()
    subject = subject.strip()
    if not subject:
        raise WorkflowError("A request needs a subject.")
    if channel != Channel.INTERNAL and contact is None:
        raise WorkflowError("A request from a customer needs a contact.")
    if outbound_email and channel != Channel.EMAIL:
        raise WorkflowError("Only an email request starts with an email to the contact.")
    if not queue.accepts_category(category):
        raise WorkflowError(f"The category “{category}” does not apply to the queue {queue}.")
    new_stage = queue.stage(Stage.State.NEW)
    if new_stage is None:
        raise WorkflowError(f"The queue {queue} has no New stage.")
    if owner is None and team is None and category is not None:
        owner, team = category.rule("default_owner"), category.rule("default_team")
    registered_by_agent = channel in AGENT_CHANNELS or outbound_email
    if owner is None and team is None and by is not None and registered_by_agent:
        owner = by  # whoever registers a call, writes first or opens it internally handles it
    status = _status_for(Status.Base.ACTIVE, status)
    ticket = Ticket(
        number=next_number(queue.numbering_scheme, now),
        subject=subject[:255],
        contact=None if channel == Channel.INTERNAL else contact,
        queue=queue,
        stage=new_stage,
        status=status,
        base_status=status.base,
        category=category,
        priority=priority
        or _default_priority(queue=queue, category=category, impact=impact, urgency=urgency),
        impact=impact or Level.MEDIUM,
        urgency=urgency or Level.MEDIUM,
        owner=owner,
        team=team,
        channel=channel,
        created_at=now,
        updated_at=now,
        is_unread=owner is None or owner != by,
        time_counter=TimeCounter.QUEUE if owner is None else TimeCounter.INTERNAL,
        time_counter_since=now,
    )
    change = _Change(ticket, by=by, now=now)
    _plan_clocks(change, restart_chain=True)
    ticket.save()
    change.fields.clear()  # the INSERT wrote the planned clocks
    if owner is not None and owner != by:
        _notify_assignment(ticket, owner, by=by, now=now)
    if tags:
        ticket.tags.set(_tags(tags))
    change.log("created", new=ticket.number)
    change.save()
    if outbound_email:
        ticket.first_message = send_email(
            ticket,
            by=by,
            body=body,
            to=contact.email,
            attachments=attachments,
            time_units=time_units,
            action="",
        )
        return ticket
    internal = channel == Channel.INTERNAL
    headers = dict(message_headers or {})
    # Written directly, not through add_message: nobody else can see the new row yet, so
    # there is nothing to lock, and it is editable.
    message = _append_message(
        ticket,
        by=by if internal else None,
        contact=None if internal else contact,
        kind=FIRST_MESSAGE_KIND[channel],
        direction=Message.Direction.INTERNAL if internal else Message.Direction.INBOUND,
        subject=headers.pop("subject", subject),
        body_text=body,
        body_html=body_html,
        time_units=time_units,
        now=now,
        log=False,
        notify=False,
        **headers,
    )
    attach_files(message, attachments)
    ticket.first_message = message
    return ticket


@transaction.atomic
def add_message(
    ticket: Ticket,
    *,
    by: Actor,
    kind: str,
    direction: str,
    contact: Contact | None = None,
    body_text: str = "",
    body_html: str = "",
    subject: str = "",
    is_public: bool | None = None,
    time_units: int = 0,
    now: datetime | None = None,
    log: bool = True,
    notify: bool = True,
    **headers,
) -> Message:
    """Append a message to the timeline. A customer's message marks the request unread for
    its owner and, unless `notify` is off (the first message), tells the owner. Notes and
    external-party mail are hidden from the customer by default. An outside party's
    answer (is_external, inbound) stops the external time counter."""
    _lock(ticket)
    _ensure_editable(ticket)
    return _append_message(
        ticket,
        by=by,
        kind=kind,
        direction=direction,
        contact=contact,
        is_public=is_public,
        now=now,
        log=log,
        notify=notify,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        time_units=time_units,
        **headers,
    )


def _append_message(
    ticket: Ticket,
    *,
    by: Actor,
    kind: str,
    direction: str,
    contact: Contact | None = None,
    is_public: bool | None = None,
    now: datetime | None = None,
    log: bool = True,
    notify: bool = True,
    **fields,
) -> Message:
    """add_message's writing, for a step that holds the request's row lock already (or
    has just made the row); `fields` are the Message's own (text, subject, headers)."""
    now = now or timezone.now()
    if is_public is None:
        is_public = kind != Message.Kind.NOTE and direction != Message.Direction.INTERNAL
    message = Message.objects.create(
        ticket=ticket,
        kind=kind,
        direction=direction,
        is_public=is_public,
        author=by,
        author_contact=contact,
        created_at=now,
        **fields,
    )
    change = _Change(ticket, by=by, now=now)
    change.set_quietly("updated_at", now)
    if direction == Message.Direction.INBOUND and contact is not None:
        change.set_quietly("is_unread", True)
        if notify and ticket.owner_id is not None:
            notifications.notify_users(
                [ticket.owner],
                ticket,
                kind=Notification.Kind.CUSTOMER_REPLY,
                text=f"{contact} wrote on {ticket.number} “{ticket.subject}”.",
                now=now,
            )
    if direction == Message.Direction.INBOUND and message.is_external:
        change.set_quietly("awaiting_external", False)
        _switch_counter(change)
    if _is_first_agent_reply(ticket, message):
        change.set("replied_at", now, action="first_reply")
    if log:
        change.log("message_added", field="message", new=message.get_kind_display())
    change.save()
    return message


@transaction.atomic
def assign_ticket(
    ticket: Ticket,
    *,
    by: Actor,
    owner: AbstractBaseUser | None | Unset = UNSET,
    team: Group | None | Unset = UNSET,
    seen_at: datetime | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Give the request to an agent and/or a team. A new owner finds it unread."""
    _lock(ticket)
    _ensure_editable(ticket)
    _ensure_fresh(ticket, seen_at)
    change = _Change(ticket, by=by, now=now)
    if owner is not UNSET and change.set("owner", owner, action="assigned"):
        change.set_quietly("is_unread", owner is not None and owner != by)
        if owner is not None and owner != by:
            _notify_assignment(ticket, owner, by=by, now=change.now)
    if team is not UNSET:
        change.set("team", team, action="assigned")
    _switch_counter(change)
    return change.save()


def _notify_assignment(ticket: Ticket, owner: AbstractBaseUser, *, by: Actor, now) -> None:
    who = _name(by) if by else "The helpdesk"
    notifications.notify_users(
        [owner],
        ticket,
        kind=Notification.Kind.ASSIGNMENT,
        text=f"{who} assigned {ticket.number} “{ticket.subject}” to you.",
        now=now,
    )


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    by: Actor,
    subject: str | Unset = UNSET,
    queue: Queue | Unset = UNSET,
    category: Category | None | Unset = UNSET,
    priority: Priority | Unset = UNSET,
    impact: str | Unset = UNSET,
    urgency: str | Unset = UNSET,
    related_address: str | Unset = UNSET,
    custom_fields: dict | Unset = UNSET,
    seen_at: datetime | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change a request's properties. A new impact or urgency re-derives the priority from
    the priority model unless a priority is given too; a new queue or priority re-plans
    the deadline. With `seen_at` (the updated_at the editor saw) a concurrent change is
    refused instead of overwritten."""
    _lock(ticket)
    _ensure_editable(ticket)
    _ensure_fresh(ticket, seen_at)
    change = _Change(ticket, by=by, now=now)
    if subject is not UNSET:
        if not subject.strip():
            raise WorkflowError("A request needs a subject.")
        change.set("subject", subject.strip()[:255])
    if queue is not UNSET and queue != ticket.queue:
        _move_to_queue(change, queue)
    if category is not UNSET:
        if not ticket.queue.accepts_category(category):
            raise WorkflowError(
                f"The category “{category}” does not apply to the queue {ticket.queue}."
            )
        change.set("category", category)
    for field, value in (("impact", impact), ("urgency", urgency)):
        if value is not UNSET:
            if value not in Level.values:
                raise WorkflowError(f"{value!r} is not a {field} level.")
            change.set(field, value)
    if priority is UNSET and {"impact", "urgency"} & change.fields:
        priority = PriorityRule.priority_for(ticket.impact, ticket.urgency) or UNSET
    if priority is not UNSET:
        change.set("priority", priority)
    if related_address is not UNSET:
        change.set("related_address", related_address)
    if custom_fields is not UNSET:
        change.set("custom_fields", dict(custom_fields))
    if {"queue", "priority"} & change.fields:
        _plan_clocks(change, restart_chain="priority" in change.fields)
    return change.save()


def _move_to_queue(change: _Change, queue: Queue) -> None:
    """The request keeps its state: New to New, Closed to Closed, in progress to the new
    queue's first in-progress stage (or New when it has none)."""
    ticket = change.ticket
    state = ticket.stage.state
    stage = queue.stage(state) or queue.stage(Stage.State.NEW)
    if stage is None:
        raise WorkflowError(f"The queue {queue} has no stages.")
    change.set("queue", queue, action="moved")
    change.set("stage", stage, action="moved")
    if not queue.accepts_category(ticket.category):
        change.set("category", None, reason=f"Not a category of {queue}")


@transaction.atomic
def set_tags(
    ticket: Ticket,
    *,
    tags: Iterable[Tag | str],
    by: Actor,
    seen_at: datetime | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Replace the request's tags; names that are new become tags on the fly."""
    _lock(ticket)
    _ensure_editable(ticket)
    _ensure_fresh(ticket, seen_at)
    new = _tags(tags)
    old = list(ticket.tags.all())
    change = _Change(ticket, by=by, now=now)
    if {t.pk for t in new} != {t.pk for t in old}:
        ticket.tags.set(new)
        change.set_quietly("updated_at", change.now)
        change.log(
            "changed",
            field="tags",
            old=", ".join(sorted(t.name for t in old)),
            new=", ".join(sorted(t.name for t in new)),
        )
    return change.save()


def _tags(tags: Iterable[Tag | str]) -> list[Tag]:
    result = []
    for tag in tags:
        if isinstance(tag, str):
            name = tag.strip()
            if not name:
                continue
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        result.append(tag)
    return result


def _stages(ticket: Ticket) -> list[Stage]:
    return list(ticket.queue.stages.all())


@transaction.atomic
def progress_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Move the request to its queue's next stage. The last step, into Closed, is closing."""
    _lock(ticket)
    _ensure_open(ticket, "progress it")
    stages = _stages(ticket)
    following = stages[stages.index(ticket.stage) + 1]
    if following.state == Stage.State.CLOSED:
        raise WorkflowError(
            f"{ticket.number} is at its last stage; close it, saying whether it was resolved."
        )
    _ensure_approved(ticket, following)
    change = _Change(ticket, by=by, now=now)
    change.set("stage", following, action="progressed")
    _plan_clocks(change)
    return change.save()


def _ensure_approved(ticket: Ticket, stage: Stage) -> None:
    """A pending or rejected approval for the stage holds the request where it is."""
    latest = ticket.approvals.filter(stage=stage).order_by("requested_at", "pk").last()
    if latest is not None and latest.approved is not True:
        waiting = "waits for" if latest.is_pending else "was refused"
        raise WorkflowError(
            f"{ticket.number} cannot move on to {stage.name}: the customer's approval {waiting}."
        )


@transaction.atomic
def request_approval(
    ticket: Ticket,
    *,
    text: str,
    by: Actor,
    stage: Stage | None = None,
    now: datetime | None = None,
) -> Approval:
    """Ask the contact to approve something (a quote) before the request progresses into
    `stage` (by default its next one). They decide on the portal or by the mailed link."""
    _lock(ticket)
    _ensure_open(ticket, "ask for an approval")
    if ticket.contact is None:
        raise WorkflowError(f"{ticket.number} is internal: there is nobody to approve.")
    if not text or not text.strip():
        raise WorkflowError("Say what the customer is asked to approve.")
    stages = _stages(ticket)
    stage = stage or stages[stages.index(ticket.stage) + 1]
    if stage not in stages[stages.index(ticket.stage) + 1 :] or stage.is_system:
        raise WorkflowError(f"{stage.name} is not a stage ahead of {ticket.number}.")
    if ticket.approvals.filter(stage=stage, decided_at__isnull=True).exists():
        raise WorkflowError(f"An approval for {stage.name} is already waiting.")
    change = _Change(ticket, by=by, now=now)
    approval = Approval.objects.create(
        ticket=ticket, stage=stage, text=text.strip(), requested_by=by, requested_at=change.now
    )
    change.log("approval_requested", field="approval", new=stage.name, reason=approval.text)
    change.save()
    transaction.on_commit(lambda: approvals.mail_request(approval.pk))
    return approval


@transaction.atomic
def decide_approval(
    approval: Approval, *, approved: bool, by: Actor, now: datetime | None = None
) -> Approval:
    """The contact's answer. Decided once: a second answer (a reused link) is refused."""
    ticket = _lock(approval.ticket)
    _ensure_editable(ticket)
    approval.refresh_from_db()
    if not approval.is_pending:
        raise WorkflowError("This approval is decided already.")
    change = _Change(ticket, by=by, now=now)
    approval.approved, approval.decided_at, approval.decided_by = bool(approved), change.now, by
    approval.save(update_fields=["approved", "decided_at", "decided_by"])
    change.log(
        "approval_given" if approved else "approval_refused",
        field="approval",
        new=approval.stage.name,
    )
    change.save()
    return approval


@transaction.atomic
def regress_ticket(
    ticket: Ticket, *, reason: str, by: Actor, now: datetime | None = None
) -> Ticket:
    """Move the request back to the previous stage; the reason is required and kept."""
    _lock(ticket)
    _ensure_open(ticket, "regress it")
    if not reason or not reason.strip():
        raise WorkflowError("Say why the request goes back a stage.")
    stages = _stages(ticket)
    position = stages.index(ticket.stage)
    if position == 0:
        raise WorkflowError(f"{ticket.number} is at its first stage; there is none before it.")
    change = _Change(ticket, by=by, now=now)
    change.set("stage", stages[position - 1], action="regressed", reason=reason.strip())
    _plan_clocks(change)
    return change.save()


@transaction.atomic
def postpone_ticket(
    ticket: Ticket,
    *,
    until: datetime,
    by: Actor,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Put the request aside until a time; the clocks' beat wakes it then."""
    _lock(ticket)
    _ensure_open(ticket, "postpone it")
    change = _Change(ticket, by=by, now=now)
    if until <= change.now:
        raise WorkflowError("Postpone until a time in the future.")
    _set_status(change, _status_for(Status.Base.POSTPONED, status))
    change.set("postponed_until", until, action="postponed")
    return change.save()


@transaction.atomic
def reactivate_ticket(
    ticket: Ticket,
    *,
    by: Actor,
    status: Status | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Make a postponed or closed request active again. A reopened request goes back to
    the stage before Closed."""
    _lock(ticket)
    _ensure_editable(ticket)
    if ticket.base_status == Status.Base.ACTIVE and status is None:
        raise WorkflowError(f"{ticket.number} is already active.")
    change = _Change(ticket, by=by, now=now)
    if ticket.base_status == Status.Base.CLOSED:
        stages = _stages(ticket)
        change.set("stage", stages[stages.index(ticket.stage) - 1], action="reopened")
        change.set("closed_at", None, action="reopened")
        change.set("resolved", None, action="reopened")
    _set_status(change, _status_for(Status.Base.ACTIVE, status), reason=reason)
    change.set("postponed_until", None)
    return change.save()


@transaction.atomic
def close_ticket(
    ticket: Ticket,
    *,
    resolved: bool,
    by: Actor,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close the request from any stage, recording whether it was resolved."""
    _lock(ticket)
    _ensure_editable(ticket)
    if resolved is None:
        raise WorkflowError("Say whether the request was resolved.")
    if ticket.base_status == Status.Base.CLOSED:
        raise WorkflowError(f"{ticket.number} is already closed.")
    change = _Change(ticket, by=by, now=now)
    change.set("stage", ticket.queue.stage(Stage.State.CLOSED), action="closed")
    _set_status(change, _status_for(Status.Base.CLOSED, status))
    change.set("resolved", bool(resolved), action="closed")
    change.set("closed_at", change.now, action="closed")
    change.set("postponed_until", None)
    change.set_quietly("alert_at", None)
    change.set_quietly("awaiting_external", False)
    return change.save()


@transaction.atomic
def change_status(
    ticket: Ticket,
    *,
    status: Status,
    by: Actor,
    postponed_until: datetime | None = None,
    resolved: bool | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Set any status, built-in or custom, through the step its built-in status means."""
    match status.base:
        case Status.Base.ACTIVE:
            return reactivate_ticket(ticket, by=by, status=status, now=now)
        case Status.Base.POSTPONED:
            if postponed_until is None:
                raise WorkflowError("Say until when the request is postponed.")
            return postpone_ticket(ticket, until=postponed_until, by=by, status=status, now=now)
        case Status.Base.CLOSED:
            return close_ticket(ticket, resolved=resolved, by=by, status=status, now=now)
        case Status.Base.DELETED:
            return delete_ticket(ticket, by=by, now=now)
    raise WorkflowError("A request becomes merged only by merging it into another one.")


@transaction.atomic
def delete_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Soft-delete: the request keeps everything and can be restored."""
    _lock(ticket)
    _ensure_editable(ticket)
    change = _Change(ticket, by=by, now=now)
    _set_status(change, Status.builtin(Status.Base.DELETED))
    change.log("deleted")
    return change.save()


@transaction.atomic
def restore_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Undo a deletion: the request gets back the status it had."""
    _lock(ticket)
    if ticket.base_status != Status.Base.DELETED:
        raise WorkflowError(f"{ticket.number} is not deleted.")
    deletion = ticket.events.filter(field="status", new_value=ticket.status.name).last()
    previous = Status.objects.filter(name=deletion.old_value).first() if deletion else None
    if previous is None or previous.base in (Status.Base.DELETED, Status.Base.MERGED):
        previous = Status.builtin(Status.Base.ACTIVE)
    change = _Change(ticket, by=by, now=now)
    _set_status(change, previous)
    change.log("restored")
    return change.save()


@transaction.atomic
def merge_ticket(ticket: Ticket, *, into: Ticket, by: Actor, now: datetime | None = None) -> Ticket:
    """Merge a request into a survivor. The merged one becomes read-only with status
    merged and points at the survivor, whose timeline shows its messages from now on."""
    if ticket.pk == into.pk:
        raise WorkflowError("A request cannot be merged into itself.")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted([ticket, into], key=lambda t: t.pk)
    _lock(first)
    _lock(second)
    _ensure_editable(ticket)
    if into.base_status == Status.Base.MERGED:
        raise WorkflowError(
            f"{into.number} was itself merged into {into.merged_into.number}; merge into that."
        )
    if into.base_status == Status.Base.DELETED:
        raise WorkflowError(f"{into.number} is deleted; restore it before merging into it.")
    change = _Change(ticket, by=by, now=now)
    _set_status(change, Status.builtin(Status.Base.MERGED))
    change.set("merged_into", into, action="merged")
    change.log("merged_in", field="merged_ticket", new=ticket.number, ticket=into)
    # Requests merged into this one follow it, so a timeline is never more than one hop.
    for earlier in Ticket.objects.filter(merged_into=ticket):
        change.log("merged_in", field="merged_ticket", new=earlier.number, ticket=into)
    Ticket.objects.filter(merged_into=ticket).update(merged_into=into, updated_at=change.now)
    into.updated_at = change.now
    into.save(update_fields=["updated_at"])
    return change.save()


@transaction.atomic
def link_tickets(
    ticket: Ticket, other: Ticket, *, by: Actor, now: datetime | None = None
) -> Ticket:
    """Mark two requests as related; the link shows on both."""
    if ticket.pk == other.pk:
        raise WorkflowError("A request cannot be related to itself.")
    _ensure_editable(ticket)
    if ticket.related.filter(pk=other.pk).exists():
        raise WorkflowError(f"{ticket.number} and {other.number} are already related.")
    ticket.related.add(other)
    change = _Change(ticket, by=by, now=now)
    change.log("linked", field="related", new=other.number)
    change.log("linked", field="related", new=ticket.number, ticket=other)
    return change.save()


@transaction.atomic
def unlink_tickets(
    ticket: Ticket, other: Ticket, *, by: Actor, now: datetime | None = None
) -> Ticket:
    if not ticket.related.filter(pk=other.pk).exists():
        raise WorkflowError(f"{ticket.number} and {other.number} are not related.")
    _ensure_editable(ticket)
    ticket.related.remove(other)
    change = _Change(ticket, by=by, now=now)
    change.log("unlinked", field="related", old=other.number)
    change.log("unlinked", field="related", old=ticket.number, ticket=other)
    return change.save()


def add_note(
    ticket: Ticket,
    *,
    text: str,
    by: Actor,
    pinned: bool = False,
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """An internal note: agents only, never shown to the customer."""
    if not text or not text.strip():
        raise WorkflowError("A note needs some text.")
    with transaction.atomic():
        note = add_message(
            ticket,
            by=by,
            kind=Message.Kind.NOTE,
            direction=Message.Direction.INTERNAL,
            body_text=text.strip(),
            is_public=False,
            time_units=time_units,
            now=now,
        )
        if pinned:
            pin_note(note, pinned=True, by=by, now=now)
    return note


@transaction.atomic
def pin_note(note: Message, *, pinned: bool, by: Actor, now: datetime | None = None) -> Message:
    """Pinned notes show at the top of the request."""
    if note.kind != Message.Kind.NOTE:
        raise WorkflowError("Only internal notes can be pinned.")
    _ensure_editable(_lock(note.ticket))
    if note.is_pinned != pinned:
        note.is_pinned = pinned
        note.save(update_fields=["is_pinned"])
        change = _Change(note.ticket, by=by, now=now)
        change.log("note_pinned" if pinned else "note_unpinned", field="note", new=note.pk)
        change.save()
    return note


@transaction.atomic
def delete_note(note: Message, *, by: Actor, now: datetime | None = None) -> None:
    """Only the latest note may be deleted, and only by its author. Its text stays in the
    history."""
    ticket = _lock(note.ticket)
    _ensure_editable(ticket)
    if note.kind != Message.Kind.NOTE:
        raise WorkflowError("Only internal notes can be deleted.")
    if by is None or note.author_id != by.pk:
        raise WorkflowError("Only the author of a note can delete it.")
    latest = ticket.messages.filter(kind=Message.Kind.NOTE).order_by("created_at", "pk").last()
    if latest.pk != note.pk:
        raise WorkflowError("Only the latest note can be deleted.")
    change = _Change(ticket, by=by, now=now)
    change.log("note_deleted", field="note", old=note.body_text)
    note.delete()
    change.save()


def mark_read(ticket: Ticket, *, by: Actor) -> None:
    """Opening a request marks it read for its owner (only for them: others' reading
    changes nothing, and reading is not history)."""
    if ticket.is_unread and by is not None and ticket.owner_id == by.pk:
        Ticket.objects.filter(pk=ticket.pk).update(is_unread=False)
        ticket.is_unread = False


def _is_first_agent_reply(ticket: Ticket, message: Message) -> bool:
    """Response time counts to the first answer an agent sends the customer."""
    return (
        ticket.replied_at is None
        and message.author_id is not None
        and message.direction == Message.Direction.OUTBOUND
        and message.is_public
    )


def attach_files(message: Message, files: Iterable) -> None:
    """Store uploaded files through Django's storage, under safe names."""
    for upload in files:
        if upload.size > settings.MAX_ATTACHMENT_BYTES:
            raise WorkflowError(
                f"“{upload.name}” is larger than {settings.MAX_ATTACHMENT_BYTES // 2**20} MB."
            )
        filename = get_valid_filename(upload.name.rsplit("/", 1)[-1]) or "attachment"
        Attachment.objects.create(
            message=message,
            file=File(upload, name=filename),
            filename=filename,
            content_type=getattr(upload, "content_type", None) or "application/octet-stream",
            size=upload.size,
        )


@transaction.atomic
def send_email(
    ticket: Ticket,
    *,
    by: Actor,
    body: str,
    to: str,
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    attachments: Iterable = (),
    time_units: int = 0,
    external: bool = False,
    automatic: bool = False,
    action: str = "emailed",
    from_address: str = "",
    answering: Message | None = None,
    now: datetime | None = None,
) -> Message:
    """Write an outbound email into the timeline and send it once the transaction commits.

    Its threading headers are fixed now, so a retried send is the same mail: it answers
    the message given (`answering`), by default the latest of its conversation. Mail to
    an outside party (`external`) is hidden from the customer and threads separately. It
    goes out from `from_address`, by default the queue's (outbound.sender_for)."""
    if not to.strip():
        raise WorkflowError("Say whom the email goes to.")
    if not body.strip():
        raise WorkflowError("The email has no text.")
    _lock(ticket)
    _ensure_editable(ticket)
    if answering is not None:
        in_reply_to, references = outbound.answer_headers(answering)
    else:
        in_reply_to, references = outbound.thread_headers(ticket, external=external)
    message = _append_message(
        ticket,
        by=by,
        kind=Message.Kind.SYSTEM if automatic else Message.Kind.EMAIL,
        direction=Message.Direction.OUTBOUND,
        subject=outbound.subject_for(ticket, subject),
        body_text=body,
        is_public=not external,
        is_external=external,
        time_units=time_units,
        from_address=from_address or outbound.sender_for(ticket),
        to=to.strip(),
        cc=cc.strip(),
        bcc=bcc.strip(),
        message_id=outbound.new_message_id(),
        in_reply_to=in_reply_to,
        references=references,
        now=now,
        log=False,
    )
    attach_files(message, attachments)
    if action:
        change = _Change(ticket, by=by, now=message.created_at)
        change.log(action, field="to", new=message.to)
        change.save()
    transaction.on_commit(lambda: send_message.delay(message.pk))
    return message


@transaction.atomic
def reply_to_customer(
    ticket: Ticket,
    *,
    by: Actor,
    body: str,
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    attachments: Iterable = (),
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """Answer the customer by email. The first agent reply sets replied_at (add_message)."""
    _lock(ticket)
    _ensure_editable(ticket)
    if ticket.contact is None:
        raise WorkflowError(f"{ticket.number} is internal: there is no customer to reply to.")
    message = send_email(
        ticket,
        by=by,
        body=body,
        to=ticket.contact.email,
        cc=cc,
        bcc=bcc,
        subject=subject,
        attachments=attachments,
        time_units=time_units,
        action="replied",
        now=now,
    )
    return message


@transaction.atomic
def forward_to_external(
    ticket: Ticket,
    *,
    by: Actor,
    to: str,
    body: str,
    attachments: Iterable = (),
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """Send the request to an outside party (a supplier, a sub-contractor). Their answer
    threads back in as an external message the customer never sees; until it does, the
    external time counter runs."""
    _lock(ticket)
    _ensure_editable(ticket)
    history = "\n\n".join(
        f"--- {m.sender_name}, {m.created_at:%Y-%m-%d %H:%M} ---\n{m.body_text}"
        for m in ticket.timeline_messages().for_customer()
    )
    message = send_email(
        ticket,
        by=by,
        body=f"{body.strip()}\n\n{history}" if history else body,
        to=to,
        subject=f"Fwd: {ticket.subject}",
        attachments=attachments,
        time_units=time_units,
        external=True,
        action="forwarded",
        now=now,
    )
    change = _Change(ticket, by=by, now=message.created_at)
    change.set_quietly("awaiting_external", True)
    _switch_counter(change)
    change.save()
    return message


@transaction.atomic
def ask_colleague(
    ticket: Ticket,
    *,
    colleague: AbstractBaseUser,
    question: str,
    by: Actor,
    now: datetime | None = None,
) -> Message:
    """Bring a colleague in: they become a collaborator, the question is an internal note,
    and they are told in the desk and by email."""
    if not question or not question.strip():
        raise WorkflowError("Write the question for your colleague.")
    if by is not None and colleague.pk == by.pk:
        raise WorkflowError("Ask someone other than yourself.")
    if not colleague.email:
        raise WorkflowError(f"{colleague.get_username()} has no email address to be told at.")
    note = add_note(ticket, text=question, by=by, now=now)
    change = _Change(ticket, by=by, now=note.created_at)
    if not ticket.collaborators.filter(pk=colleague.pk).exists():
        ticket.collaborators.add(colleague)
        change.log("collaborator_added", field="collaborators", new=colleague)
        _switch_counter(change)
    change.save()
    asker = _name(by) if by else "The helpdesk"
    notifications.notify_users(
        [colleague],
        ticket,
        kind=Notification.Kind.QUESTION,
        text=f"{asker} asks about {ticket.number} “{ticket.subject}”:\n\n{question.strip()}",
        now=change.now,
    )
    return note


# Escalation steps ------------------------------------------------------------------------
#
# The sweep (escalation.engine) locks a batch of due requests with one SELECT ... FOR
# UPDATE SKIP LOCKED and hands the whole batch to these steps, which check each request is
# still due, then write all of them with one UPDATE per set of new values and one INSERT of
# events: a thousand escalations take a handful of queries, not thousands.


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


class PassedDue(NamedTuple):
    """A due time the sweep watches: its field, the field flagging it passed, and the
    event that records it."""

    due: str
    flag: str
    action: str
    reason: str


ALERT = PassedDue("alert_at", "alerted_at", "alerted", "Still new past its alert time.")
OVERDUE = PassedDue("deadline", "overdue_flagged_at", "overdue", "The deadline has passed.")


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


class Notice(NamedTuple):
    """Whom to tell what about one request, for notify_many."""

    ticket: Ticket
    text: str
    users: Iterable[AbstractBaseUser] = ()
    address: str = ""
    reason: str = ""


@transaction.atomic
def notify(
    ticket: Ticket,
    *,
    kind: str,
    text: str,
    users: Iterable[AbstractBaseUser] = (),
    address: str = "",
    by: Actor = None,
    reason: str = "",
    now: datetime | None = None,
) -> list[Notification]:
    """Tell agents (in the desk and by email) and/or an address about the request, and
    keep in its history who was told."""
    notice = Notice(ticket, text, users, address, reason)
    return notify_many([notice], kind=kind, by=by, now=now)


@transaction.atomic
def notify_many(
    notices: list[Notice], *, kind: str, by: Actor = None, now: datetime | None = None
) -> list[Notification]:
    """notify for many requests at once: one INSERT of notifications, one of events."""
    now = now or timezone.now()
    sent = notifications.notify_many(
        [(notice.ticket, list(notice.users), notice.address, notice.text) for notice in notices],
        kind=kind,
        now=now,
    )
    told: dict[int, list[str]] = {}
    for notification in sent:
        who = _name(notification.recipient) if notification.recipient else notification.address
        told.setdefault(notification.ticket_id, []).append(who)
    changes = []
    for notice in notices:
        change = _Change(notice.ticket, by=by, now=now)
        who = ", ".join(told.get(notice.ticket.pk, [])) or "nobody"
        change.log("notified", field="notification", new=who, reason=notice.reason)
        changes.append(change)
    _save_many(changes)
    return sent
