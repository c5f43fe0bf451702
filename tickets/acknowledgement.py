"""The automatic acknowledgement a customer gets for a new request.

Kept small and separate so the mail gateway's acknowledgement of inbound email (with its
loop and rate checks) can be unified with it later."""

from django.db.models import F

from tickets import workflow
from tickets.models import Message, ReplyTemplate, Ticket
from tickets.replies import render_template, templates_for


def acknowledgement_template(ticket: Ticket) -> ReplyTemplate | None:
    """The queue's own acknowledgement template, else a global one."""
    return (
        templates_for(ticket, ReplyTemplate.Purpose.ACKNOWLEDGEMENT)
        .order_by(F("queue").asc(nulls_last=True), "name")
        .first()
    )


def acknowledge(ticket: Ticket) -> Message | None:
    """Mail the contact the acknowledgement, if an admin wrote one; sent after commit."""
    template = acknowledgement_template(ticket)
    if template is None or ticket.contact is None:
        return None
    subject, body = render_template(template, ticket, None)
    return workflow.send_email(
        ticket,
        by=None,
        body=body,
        to=ticket.contact.email,
        subject=subject,
        automatic=True,
        action="acknowledged",
    )
