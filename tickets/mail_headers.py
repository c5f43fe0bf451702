"""The headers that thread a request's mail: its Message-ID, In-Reply-To and References,
and the request number in the subject.

The workflow fixes them when it writes an outbound message, so a retried send is the very
same mail; the mail gateway reads the same rules when it threads what comes back."""

from email.utils import make_msgid

from django.conf import settings
from django.db.models import Q

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
