"""Registering a request: its number, its defaults, its first message."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from tickets import events, sms
from tickets.models import (
    Category,
    Channel,
    Contact,
    Level,
    Message,
    Priority,
    PriorityRule,
    Queue,
    Stage,
    Status,
    Tag,
    Ticket,
    TimeCounter,
)
from tickets.numbering import next_number
from tickets.workflow.conversation import _append_message, attach_files, send_email, send_sms
from tickets.workflow.core import Actor, WorkflowError, _Change, _status_for
from tickets.workflow.editing import _tags
from tickets.workflow.timekeeping import _plan_clocks


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
    outbound_sms: bool = False,
    attachments: Iterable = (),
    message_headers: dict | None = None,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Register a request: its number, its defaults, its first message and its event.

    The first message comes from the contact (an email, the content of a phone call, a
    portal message); an internal request's first message is an internal note. With
    `outbound_email` (or `outbound_sms`) an agent opens the request by writing to the
    contact: the first message is that email (SMS), and it is sent. `message_headers`
    are further fields of the first message as it arrived (from/to/cc, Message-ID and
    threading headers, raw source, its own subject). The request starts with the
    built-in active `status` or the active one given (a caller creating many passes the
    one it loaded once).

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
    if outbound_sms and channel != Channel.SMS:
        raise WorkflowError("Only an SMS request starts with an SMS to the contact.")
    if outbound_sms and (reason := sms.too_long(body)):
        raise WorkflowError(reason)  # before the number is taken
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
        change.tell(events.OWNER_CHANGED, field="owner", old=None, new=owner.pk)
    if tags:
        ticket.tags.set(_tags(tags))
    # The channel in the payload: acknowledgements (and later automations) choose by it.
    change.tell(events.CREATED, field="", old="", new=ticket.number, channel=ticket.channel)
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
    if outbound_sms:
        ticket.first_message = send_sms(
            ticket, by=by, body=body, time_units=time_units, action="", now=now
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
