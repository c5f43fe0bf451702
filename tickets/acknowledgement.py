"""The automatic acknowledgement a customer gets for a new request.

One function for every channel, called by the subscribers to the request's CREATED event,
so the acknowledgement is written after the request is committed: the portal's (here)
acknowledges a request when an admin wrote an acknowledgement template; the mail
gateway's always does (with its own text when there is no template) after its loop and
rate checks, from the mailbox's reply address."""

from datetime import datetime

from django.db.models import F, Q

from tickets import events, workflow
from tickets.models import Channel, DomainEvent, Message, Queue, ReplyTemplate, Ticket
from tickets.replies import fill, placeholders, render_template


def acknowledgement_template(queue: Queue) -> ReplyTemplate | None:
    """The queue's own acknowledgement template, else a global one."""
    return (
        ReplyTemplate.objects.filter(
            Q(queue=queue) | Q(queue__isnull=True), purpose=ReplyTemplate.Purpose.ACKNOWLEDGEMENT
        )
        .order_by(F("queue").asc(nulls_last=True), "name")
        .first()
    )


def acknowledge(
    ticket: Ticket,
    *,
    template: ReplyTemplate | None | workflow.Unset = workflow.UNSET,
    default_text: str = "",
    from_address: str = "",
    answering: Message | None = None,
    now: datetime | None = None,
) -> Message | None:
    """Mail the contact the acknowledgement, sent after commit: the acknowledgement
    template, else `default_text` (with the template's placeholders); nothing when there
    is neither. A caller acknowledging many requests passes the `template` it looked up
    once (None: there is none), and the message that opened the request as `answering`
    when it has it at hand."""
    if template is workflow.UNSET:
        template = acknowledgement_template(ticket.queue)
    if ticket.contact is None:
        return None
    if template is not None:
        subject, body = render_template(template, ticket, None)
    elif default_text:
        subject, body = "", fill(default_text, placeholders(ticket, None))
    else:
        return None
    return workflow.send_email(
        ticket,
        by=None,
        body=body,
        to=ticket.contact.email,
        subject=subject,
        automatic=True,
        action="acknowledged",
        from_address=from_address,
        answering=answering,
        now=now,
    )


def acknowledge_portal_request(event: DomainEvent) -> None:
    """A request opened on the portal is confirmed to its contact, in answer to their
    message and at the request's own time (its updated_at is not written again)."""
    ticket = Ticket.objects.select_related("queue", "contact").filter(pk=event.ticket_id).first()
    if ticket is None:
        return
    opening = ticket.messages.order_by("created_at", "pk").first()
    acknowledge(ticket, answering=opening, now=event.at)


def subscribe() -> None:
    events.subscribe(
        events.CREATED,
        acknowledge_portal_request,
        key="tickets.acknowledge",
        when=events.opened_through(Channel.PORTAL),
    )
