"""The request's timeline as the pages show it: what the desk's request page and the
portal's request page list, built here so that their views only render it.

The desk interleaves messages, notes and history; the events one workflow call wrote
(same moment, same person) make one line. The portal lists what the customer may read.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from tickets.access import visible_tickets_for_contact
from tickets.models import Contact, Message, Ticket

FILTERS = {"all": "All", "messages": "Messages", "notes": "Notes"}
# These events only repeat a message that is on the timeline already.
MESSAGE_EVENTS = {"message_added", "replied", "forwarded", "emailed", "texted"}
EVENT_LABELS = {
    "created": "created the request",
    "changed": "changed",
    "assigned": "assigned",
    "moved": "moved it",
    "progressed": "moved it on",
    "regressed": "moved it back",
    "postponed": "postponed it",
    "reopened": "reopened it",
    "status_changed": "changed",
    "closed": "closed it",
    "deleted": "deleted it",
    "restored": "restored it",
    "merged": "merged it",
    "merged_in": "merged in",
    "linked": "linked",
    "unlinked": "unlinked",
    "note_pinned": "pinned a note",
    "note_unpinned": "unpinned a note",
    "note_deleted": "deleted a note",
    "time_units_corrected": "corrected the time units",
    "collaborator_added": "asked for help",
    "first_reply": "replied for the first time",
    "approval_requested": "asked the customer to approve",
    "approval_given": "approved",
    "approval_refused": "refused the approval",
    "automation_ran": "ran",
    "activity_scheduled": "scheduled",
    "activity_done": "completed",
    "activity_cancelled": "cancelled",
}
FIELD_LABELS = {
    "custom_fields": "custom fields",
    "related_address": "related address",
    "postponed_until": "until",
    "merged_into": "into",
    "merged_ticket": "request",
    "related": "request",
    "collaborators": "colleague",
}
# Fields whose values the timeline does not repeat: a note's text or id, and timestamps
# the event's own time already tells.
QUIET_FIELDS = {"note", "message", "replied_at", "closed_at"}


@dataclass
class Timeline:
    """The desk's timeline, filtered by `show` (a key of FILTERS)."""

    # ("message", Message) and ("event", EventLine) pairs, oldest first.
    entries: list[tuple[str, "Message | EventLine"]]
    show: str
    pinned_notes: list[Message]
    # The agent's own latest note, which they may still delete.
    deletable_note: Message | None
    time_units: int

    @property
    def filters(self) -> dict[str, str]:
        return FILTERS


def build_timeline(ticket: Ticket, user: AbstractBaseUser, *, show: str = "all") -> Timeline:
    """The timeline of the request and of those merged into it, for an agent who may see
    it: its messages with their attachments, and with "all" its events too, in a fixed
    number of queries however long it is. An unknown `show` shows all."""
    if show not in FILTERS:
        show = "all"
    timeline_messages = list(ticket.timeline_messages())
    notes = [m for m in timeline_messages if m.kind == Message.Kind.NOTE]
    own_notes = [n for n in notes if n.ticket_id == ticket.pk]
    latest_note = own_notes[-1] if own_notes else None
    if show == "notes":
        entries = [("message", note) for note in notes]
    elif show == "messages":
        entries = [("message", m) for m in timeline_messages if m.kind != Message.Kind.NOTE]
    else:
        events = _event_lines(
            ticket.events.exclude(action__in=MESSAGE_EVENTS).select_related("actor")
        )
        entries = sorted(
            [((m.created_at, 0, m.pk), "message", m) for m in timeline_messages]
            + [((e.at, 1, e.pk), "event", e) for e in events],
            key=lambda entry: entry[0],
        )
        entries = [(kind, item) for _, kind, item in entries]
    return Timeline(
        entries=entries,
        show=show,
        pinned_notes=[n for n in notes if n.is_pinned],
        deletable_note=latest_note
        if latest_note and latest_note.author_id == user.pk and not ticket.is_read_only
        else None,
        time_units=sum(m.time_units for m in timeline_messages),
    )


def build_customer_timeline(ticket: Ticket, contact: Contact) -> list[Message]:
    """What the customer may read, oldest first: public messages that were not exchanged
    with an outside party, of this request and of those merged into it that the contact
    may follow."""
    return list(
        ticket.timeline_messages()
        .for_customer()
        .filter(Q(ticket=ticket) | Q(ticket__in=visible_tickets_for_contact(contact)))
    )


@dataclass
class EventLine:
    """The events one call of the workflow wrote (same moment, same person), as one line
    of the timeline: closing, for instance, changes the stage, the status and resolved."""

    at: datetime
    pk: int
    actor: object
    via: str = ""
    actions: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        # "closed it" tells more than the "changed" status that came with it.
        telling = [a for a in self.actions if a not in ("changed", "status_changed")]
        action = (telling or self.actions)[0]
        label = EVENT_LABELS.get(action, action.replace("_", " "))
        return f"{label}: {'; '.join(self.changes)}" if self.changes else label

    @property
    def reason(self) -> str:
        return " / ".join(self.reasons)


def _event_lines(events) -> list[EventLine]:
    lines: list[EventLine] = []
    for event in events:
        last = lines[-1] if lines else None
        if last and (last.at, last.actor, last.via) == (event.at, event.actor, event.via):
            line = last
        else:
            line = EventLine(at=event.at, pk=event.pk, actor=event.actor, via=event.via)
            lines.append(line)
        line.actions.append(event.action)
        if event.field and event.field not in QUIET_FIELDS:
            label = FIELD_LABELS.get(event.field, event.field.replace("_", " "))
            old, new = _readable(event.old_value), _readable(event.new_value)
            values = new if not old else f"{old} → {new or '—'}"
            line.changes.append(f"{label} {values}")
        if event.reason:
            line.reasons.append(event.reason)
    return lines


def _readable(value: str) -> str:
    """Event values are stored as text; show stored times and yes/no as a person would."""
    if value in ("True", "False"):
        return "yes" if value == "True" else "no"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None or len(value) < 19:
        return value
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
