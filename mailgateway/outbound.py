"""Outbound mail: who it comes from, and putting a stored message in the outbox.

The workflow writes an outbound Message with its Message-ID, In-Reply-To and References
already set and tells of it (events.MESSAGE_SENT); send_message puts it in the outbox,
once, which delivers it and records sent_at on the message.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives

from mailgateway import outbox
from mailgateway.models import Mailbox, OutgoingMail
from tickets.mail_headers import new_message_id
from tickets.models import Message, Ticket


def sender_for(ticket: Ticket) -> str:
    """The queue's address, else the reply address of a mailbox feeding the queue."""
    if ticket.queue.email_address:
        return ticket.queue.email_address
    reply_address = (
        Mailbox.objects.filter(queue_id=ticket.queue_id, is_active=True)
        .exclude(reply_address="")
        .values_list("reply_address", flat=True)
        .first()
    )
    return reply_address or settings.DEFAULT_FROM_EMAIL


def build_email(message: Message) -> EmailMultiAlternatives:
    """The mail of an outbound message, without its files (the outbox adds those when it
    sends, so the stored mail stays small)."""
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.kind == Message.Kind.SYSTEM:
        headers["Auto-Submitted"] = "auto-replied"
    return EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_address or sender_for(message.ticket),
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        headers=headers,
    )


def send_message(message: Message) -> OutgoingMail | None:
    """Put a stored outbound message in the outbox; a message already there (or sent) is
    not put there again."""
    if message.direction != Message.Direction.OUTBOUND or message.sent_at is not None:
        return None
    return outbox.enqueue(
        build_email(message), kind="message", key=f"message:{message.pk}", message=message
    )


def _addresses(field: str) -> list[str]:
    return [a.strip() for a in field.replace(";", ",").split(",") if a.strip()]


def email_agent(user: AbstractBaseUser, *, subject: str, body: str, key: str) -> bool:
    """Tell an agent something by email; an inactive agent or one without an address is
    told nothing. Returns whether a mail was put in the outbox."""
    if not user.is_active or not user.email:
        return False
    email_address(user.email, subject=subject, body=body, key=key)
    return True


def email_address(address: str, *, subject: str, body: str, key: str) -> OutgoingMail:
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": new_message_id()},
    )
    return outbox.enqueue(email, kind="notification", key=key)


def email_customer(
    address: str, *, subject: str, body: str, key: str, ticket: Ticket
) -> OutgoingMail:
    """A mail to a customer about their request that is not part of its conversation (the
    approval link): from the request's address, numbered in the subject."""
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender_for(ticket),
        to=[address],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": new_message_id()},
    )
    return outbox.enqueue(email, kind="approval", key=key)
