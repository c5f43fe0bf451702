"""A request's properties: subject, queue, classification, owner and team, tags."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from tickets.models import Category, Level, Priority, PriorityRule, Queue, Stage, Tag, Ticket
from tickets.workflow.core import (
    UNSET,
    Actor,
    Unset,
    WorkflowError,
    _Change,
    _ensure_editable,
    _ensure_fresh,
    _ensure_open,
    _lock,
)
from tickets.workflow.timekeeping import _plan_clocks, _switch_counter


@transaction.atomic
def edit_request(
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
    owner: AbstractBaseUser | None | Unset = UNSET,
    team: Group | None | Unset = UNSET,
    tags: Iterable[Tag | str] | Unset = UNSET,
    seen_at: datetime | None = None,
    now: datetime | None = None,
) -> Ticket:
    """A person's edit of a request's fields (the desk's properties form, the admin's
    change form), applied whole or refused whole: the properties as update_ticket changes
    them, then owner and team as assign_ticket, then the tags as set_tags. With `seen_at`
    a concurrent change is refused before anything is written."""
    _lock(ticket)
    _ensure_editable(ticket)
    _ensure_fresh(ticket, seen_at)
    change = _Change(ticket, by=by, now=now)
    _change_properties(
        change,
        subject=subject,
        queue=queue,
        category=category,
        priority=priority,
        impact=impact,
        urgency=urgency,
        related_address=related_address,
        custom_fields=custom_fields,
    )
    if owner is not UNSET or team is not UNSET:
        _assign(change, owner=owner, team=team)
    if tags is not UNSET:
        _retag(change, tags)
    return change.save()


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
    _change_properties(
        change,
        subject=subject,
        queue=queue,
        category=category,
        priority=priority,
        impact=impact,
        urgency=urgency,
        related_address=related_address,
        custom_fields=custom_fields,
    )
    return change.save()


def _change_properties(
    change: _Change,
    *,
    subject: str | Unset,
    queue: Queue | Unset,
    category: Category | None | Unset,
    priority: Priority | Unset,
    impact: str | Unset,
    urgency: str | Unset,
    related_address: str | Unset,
    custom_fields: dict | Unset,
) -> None:
    ticket = change.ticket
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
    _assign(change, owner=owner, team=team)
    return change.save()


def _assign(
    change: _Change, *, owner: AbstractBaseUser | None | Unset, team: Group | None | Unset
) -> None:
    by = change.by
    if owner is not UNSET and change.set("owner", owner, action="assigned"):
        change.set_quietly("is_unread", owner is not None and owner != by)
    if team is not UNSET:
        change.set("team", team, action="assigned")
    _switch_counter(change)


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
    change = _Change(ticket, by=by, now=now)
    _retag(change, tags)
    return change.save()


def _retag(change: _Change, tags: Iterable[Tag | str]) -> None:
    ticket = change.ticket
    new = _tags(tags)
    old = list(ticket.tags.all())
    if {t.pk for t in new} != {t.pk for t in old}:
        ticket.tags.set(new)
        change.set_quietly("updated_at", change.now)
        change.log(
            "changed",
            field="tags",
            old=", ".join(sorted(t.name for t in old)),
            new=", ".join(sorted(t.name for t in new)),
        )


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


@transaction.atomic
def record_change(
    ticket: Ticket,
    *,
    by: Actor,
    action: str,
    field: str = "",
    old="",
    new="",
    doing: str = "",
    tell: str = "",
    payload: dict | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Another app's change to its own rows about this request (billing's charges), as a
    line of the request's history, under the request's lock. Refused, like an edit, on a
    merged or deleted request; with `doing` ("change its charges"), unless it is open.
    With `tell`, the domain event of that name is told with `payload` (processes' step
    done), so the app's change reaches the subscribers as the workflow's own do."""
    _lock(ticket)
    _ensure_editable(ticket)
    if doing:
        _ensure_open(ticket, doing)
    change = _Change(ticket, by=by, now=now)
    change.log(action, field=field, old=old, new=new)
    if tell:
        change.tell(tell, **(payload or {}))
    change.fields.add("updated_at")
    return change.save()
