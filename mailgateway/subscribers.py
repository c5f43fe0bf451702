"""What the mail gateway does when something happens to a request (tickets.events)."""

from datetime import timedelta

from django.template.loader import render_to_string

from mailgateway import outbound
from mailgateway.models import DEFAULT_ACKS_PER_HOUR, ReceivedMail
from tickets import acknowledgement, approvals, events
from tickets.models import Approval, Channel, DomainEvent, Message

# The acknowledgement when no template is written: mail is always confirmed, so the
# sender knows the number to write about.
DEFAULT_ACKNOWLEDGEMENT = (
    "Hello {contact_name},\n\n"
    "thank you for your message. We have registered it as request {number} and will "
    "answer as soon as we can. Please keep {number} in the subject when you write to us "
    "about it.\n\n"
    "{queue}"
)


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
    if approval is None or approval.asks != Approval.Asks.CONTACT:
        return  # an agents' approval is decided on the request page
    if approval.ticket.contact is None:
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


def acknowledge_mail(event: DomainEvent) -> None:
    """A request opened by mail is confirmed to its sender, in answer to that mail and from
    the mailbox's reply address; never to machine mail (RFC 3834), and at most the
    mailbox's `acks_per_hour` times an hour to one sender, so two autoresponders cannot
    keep each other busy."""
    received = (
        ReceivedMail.objects.select_related(
            "mailbox", "ticket__queue", "ticket__contact", "ticket_message"
        )
        .filter(ticket_id=event.ticket_id, outcome=ReceivedMail.Outcome.NEW)
        .first()
    )
    if received is None or received.is_automatic or received.acknowledged:
        return  # opened in the desk, by machine mail, or confirmed already
    mailbox = received.mailbox
    if mailbox is not None and not mailbox.send_acknowledgement:
        return
    ticket = received.ticket
    sent_this_hour = ReceivedMail.objects.filter(
        sender=ticket.contact.email.lower(),
        acknowledged=True,
        received_at__gte=received.received_at - timedelta(hours=1),
    ).count()
    if sent_this_hour >= (mailbox.acks_per_hour if mailbox else DEFAULT_ACKS_PER_HOUR):
        return
    sent = acknowledgement.acknowledge(
        ticket,
        default_text=DEFAULT_ACKNOWLEDGEMENT,
        from_address=mailbox.reply_address if mailbox else "",
        answering=received.ticket_message,
        now=event.at,
    )
    if sent is not None:
        received.acknowledged = True
        received.save(update_fields=["acknowledged"])


def subscribe() -> None:
    events.subscribe(
        events.CREATED,
        acknowledge_mail,
        key="mailgateway.acknowledge",
        when=events.opened_through(Channel.EMAIL),
    )
    events.subscribe(
        events.MESSAGE_SENT,
        send_outbound_message,
        key="mailgateway.send",
        when=lambda event: not events.sent_by_sms(event),
    )
    events.subscribe(
        events.APPROVAL_REQUESTED, mail_approval_request, key="mailgateway.approval_request"
    )
