"""Outbound mail: the headers that thread it, and sending a stored message.

The workflow writes an outbound Message with its Message-ID, In-Reply-To and References
already set, then a Celery task calls send_message. A retry therefore sends the very same
mail, and a message already sent is never sent again.
"""

from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import Message, Ticket

MAX_REFERENCES = 20  # enough to thread; long chains make headers some servers refuse


def new_message_id() -> str:
    return make_msgid(domain=settings.MESSAGE_ID_DOMAIN)


def thread_headers(ticket: Ticket, *, external: bool = False) -> tuple[str, str]:
    """In-Reply-To and References for the next mail of this request: it answers the latest
    message with a Message-ID in the same conversation (the customer's, or the outside
    party's). Automatic mail (the acknowledgement) is not what a person answers."""
    # The timeline (its own messages and those of requests merged into it) as a semi-join
    # on request ids, so the (ticket, created_at) index serves it.
    timeline = Ticket.objects.filter(Q(pk=ticket.pk) | Q(merged_into=ticket.pk)).values("pk")
    latest = (
        Message.objects.filter(ticket__in=timeline)
        .exclude(message_id="")
        .exclude(kind=Message.Kind.SYSTEM, direction=Message.Direction.OUTBOUND)
        .filter(is_external=external)
        .order_by("created_at", "pk")
        .last()
    )
    return answer_headers(latest)


def answer_headers(message: Message | None) -> tuple[str, str]:
    """In-Reply-To and References of a mail answering this message."""
    if message is None or not message.message_id:
        return "", ""
    references = message.references.split() + [message.message_id]
    return message.message_id, " ".join(references[-MAX_REFERENCES:])


def subject_for(ticket: Ticket, subject: str = "") -> str:
    """The request number in brackets lets the mail gateway thread the answer."""
    subject = subject or ticket.subject
    if ticket.number in subject:
        return subject
    return f"[{ticket.number}] {subject}"


def sender_for(ticket: Ticket) -> str:
    """The queue's address, else the reply address of a mailbox feeding the queue."""
    if ticket.queue.email_address:
        return ticket.queue.email_address
    from mailgateway.models import Mailbox

    reply_address = (
        Mailbox.objects.filter(queue_id=ticket.queue_id, is_active=True)
        .exclude(reply_address="")
        .values_list("reply_address", flat=True)
        .first()
    )
    return reply_address or settings.DEFAULT_FROM_EMAIL


def build_email(message: Message) -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.kind == Message.Kind.SYSTEM:
        headers["Auto-Submitted"] = "auto-replied"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_address or sender_for(message.ticket),
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        headers=headers,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as content:
            email.attach(attachment.filename, content.read(), attachment.content_type)
    return email


def send_message(message_pk: int) -> bool:
    """Send one stored outbound message unless it went already. Returns whether it sent.

    The row lock keeps two workers from sending the same message at once."""
    try:
        with transaction.atomic():
            message = (
                # Only the message's row: the request's and the queue's stay free while
                # the mail server is talked to.
                Message.objects.select_for_update(of=("self",))
                .select_related("ticket__queue")
                .filter(pk=message_pk, direction=Message.Direction.OUTBOUND)
                .first()
            )
            if message is None or message.sent_at is not None:
                return False
            build_email(message).send(fail_silently=False)
            message.sent_at = timezone.now()
            message.send_error = ""
            message.save(update_fields=["sent_at", "send_error"])
    except Exception as error:
        Message.objects.filter(pk=message_pk).update(send_error=str(error)[:1000])
        raise
    return True


def _addresses(field: str) -> list[str]:
    return [a.strip() for a in field.replace(";", ",").split(",") if a.strip()]


def notify_agent(user_pk: int, *, subject: str, body: str) -> bool:
    user = get_user_model().objects.filter(pk=user_pk).first()
    return user is not None and email_agent(user, subject=subject, body=body)


def email_agent(user: AbstractBaseUser, *, subject: str, body: str) -> bool:
    """Tell an agent something by email; an inactive agent or one without an address is
    told nothing. Returns whether it sent."""
    if not user.is_active or not user.email:
        return False
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": new_message_id()},
    )
    email.send(fail_silently=False)
    return True
