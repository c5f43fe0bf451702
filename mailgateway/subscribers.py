"""What the mail gateway does when something happens to a request (tickets.events)."""

from django.template.loader import render_to_string

from mailgateway import outbound
from tickets import approvals, events
from tickets.models import Approval, DomainEvent, Message


def send_outbound_message(event: DomainEvent) -> None:
    """A reply, forward, acknowledgement or "email the request" was written: mail it."""
    message = (
        Message.objects.select_related("ticket__queue").filter(pk=event.payload["message"]).first()
    )
    if message is None:  # deleted since; nothing to send
        return
    if not message.from_address:
        message.from_address = outbound.sender_for(message.ticket)
        message.save(update_fields=["from_address"])
    outbound.send_message(message)


def mail_approval_request(event: DomainEvent) -> None:
    """A contact is asked to approve a stage: mail them the one-time link."""
    approval = (
        Approval.objects.select_related("ticket__contact", "ticket__queue", "stage")
        .filter(pk=event.payload["approval"])
        .first()
    )
    if approval is None or approval.ticket.contact is None:
        return
    context = approvals.mail_context(approval)
    subject, body = render_to_string("emails/portal_approval.txt", context).split("\n", 1)
    outbound.email_customer(
        approval.ticket.contact.email,
        subject=subject.strip(),
        body=body.lstrip(),
        key=f"approval:{approval.pk}",
        ticket=approval.ticket,
    )


def subscribe() -> None:
    events.subscribe(events.MESSAGE_SENT, send_outbound_message, key="mailgateway.send")
    events.subscribe(
        events.APPROVAL_REQUESTED, mail_approval_request, key="mailgateway.approval_request"
    )
