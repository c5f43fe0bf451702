"""The workflow's building blocks: its errors, the change a step collects, the row lock
and the checks every step starts with. Imports nothing from the rest of the workflow.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from tickets import events
from tickets.models import DomainEvent, Event, Status, Ticket

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


@dataclass(frozen=True)
class Automation:
    """Who made a change when no person did it by hand: an automation rule or an agent's
    macro. The history names it beside the actor; its `cause` rides along in the domain
    events' payload, so the automation can tell its own changes from anyone else's."""

    name: str
    cause: dict = dataclasses.field(default_factory=dict)


_automation: ContextVar[Automation | None] = ContextVar("automation", default=None)


@contextmanager
def automated(name: str, **cause) -> Iterator[Automation]:
    """Every workflow step inside this block is recorded as made by the automation `name`
    (its history's `via`, its domain events' payload "cause")."""
    token = _automation.set(Automation(name, cause))
    try:
        yield _automation.get()
    finally:
        _automation.reset(token)


def current_automation() -> Automation | None:
    return _automation.get()


class _Change:
    """Collects one call's field changes and their events, then saves them together."""

    def __init__(self, ticket: Ticket, *, by: Actor, now: datetime | None = None):
        self.ticket = ticket
        self.by = by
        self.now = now or timezone.now()
        self.fields: set[str] = set()
        self.events: list[Event] = []
        self.domain_events: list[DomainEvent] = []
        # field → [first old, last new] of the edits told together as UPDATED
        self.edited: dict[str, list] = {}
        self.automation = _automation.get()

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

    def tell(self, name: str, *, ticket: Ticket | None = None, **payload) -> None:
        """Record a domain event for the other apps, once per name and request."""
        ticket = ticket or self.ticket
        if any(e.name == name and e.ticket is ticket for e in self.domain_events):
            return
        if self.automation is not None:
            payload["cause"] = self.automation.cause
        self.domain_events.append(events.event(name, ticket, by=self.by, at=self.now, **payload))

    def log(self, action: str, *, field: str = "", old="", new="", reason: str = "", ticket=None):
        told = TOLD.get((action, field), TOLD.get((action, "")))
        if told:
            self.tell(told, ticket=ticket, field=field, old=_payload(old), new=_payload(new))
        elif field and action in EDITS and (ticket or self.ticket) is self.ticket:
            first_old = self.edited.get(field, [_payload(old)])[0]
            self.edited[field] = [first_old, _payload(new)]
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
                via=self.automation.name if self.automation else "",
            )
        )

    def announcements(self) -> list[DomainEvent]:
        if self.edited:
            self.tell(events.UPDATED, fields=sorted(self.edited), changes=self.edited)
            self.edited = {}
        return self.domain_events

    def save(self) -> Ticket:
        if self.fields:
            self.ticket.updated_at = self.now
            self.ticket.save(update_fields=sorted(self.fields | {"updated_at"}))
        Event.objects.bulk_create(self.events)
        events.publish(self.announcements())
        return self.ticket


# History actions that are domain events of their own (by action and field; "" any field),
# and the field edits told together as one UPDATED event.
TOLD = {
    ("created", ""): events.CREATED,
    ("progressed", ""): events.PROGRESSED,
    ("regressed", ""): events.REGRESSED,
    ("closed", "resolved"): events.CLOSED,
    ("reopened", "resolved"): events.REOPENED,
    ("assigned", "owner"): events.OWNER_CHANGED,
    ("escalated", ""): events.ESCALATED,
    ("note_pinned", ""): events.NOTE_UPDATED,
    ("note_unpinned", ""): events.NOTE_UPDATED,
    ("note_deleted", ""): events.NOTE_UPDATED,
}
EDITS = {"changed", "moved", "status_changed", "postponed", "assigned", "tagged", "untagged"}


def _payload(value):
    """A value as the event's JSON: a model row by its id."""
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    return getattr(value, "pk", None) or str(value)


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


def _status_for(base: str, status: Status | None) -> Status:
    if status is None:
        return Status.builtin(base)
    if status.base != base:
        raise WorkflowError(f"“{status.name}” is a {status.get_base_display().lower()} status.")
    return status


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()
