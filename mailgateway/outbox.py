"""The one way mail leaves the helpdesk: stored first, then delivered with retries.

`enqueue` writes an OutgoingMail in the caller's transaction (a mail exists exactly when
the change that sends it does) and hands its id to a Celery task after the commit. The
task delivers it through the real backend; a failure is kept on the row and tried again
later with a growing pause, by the beat step `deliver_due`, which also picks up mail whose
task never ran (the broker was down). Delivery claims the row first, so two workers never
send the same mail; a mail that went is never sent again.

With EMAIL_BACKEND = "mailgateway.outbox.OutboxBackend", Django's own mail (the portal's
links, password resets) takes the same way; OUTBOX_BACKEND then names the real backend.
"""

import base64
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from mailgateway.models import OutgoingMail
from tickets.models import Message

logger = logging.getLogger(__name__)

OUTBOX_BACKEND_PATH = "mailgateway.outbox.OutboxBackend"
# Pauses before the 1st, 2nd, ... retry: a mail server back within the hour loses
# nothing, and one down for a day is not hammered.
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440)]
MAX_ATTEMPTS = len(BACKOFF) + 1
CLAIM = timedelta(minutes=5)  # longer than a send can take (EMAIL_TIMEOUT)


def enqueue(
    email: EmailMessage,
    *,
    kind: str,
    key: str = "",
    message: Message | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Store this mail for delivery after the commit. The same `key` twice is one mail."""
    now = now or timezone.now()
    html = next(
        (body for body, mime in getattr(email, "alternatives", []) if mime == "text/html"), ""
    )
    mail, created = OutgoingMail.objects.get_or_create(
        key=key or f"{kind}:{uuid.uuid4()}",
        defaults={
            "kind": kind,
            "message": message,
            "from_address": email.from_email or settings.DEFAULT_FROM_EMAIL,
            "to": list(email.to),
            "cc": list(email.cc),
            "bcc": list(email.bcc),
            "reply_to": list(email.reply_to),
            "subject": email.subject,
            "body_text": email.body,
            "body_html": html,
            "headers": dict(email.extra_headers),
            "attachments": [] if message else _encoded(email.attachments),
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        from mailgateway.tasks import deliver_mail  # tasks import this module

        transaction.on_commit(lambda: deliver_mail.delay(mail.pk), robust=True)
    return mail


def deliver(mail_pk: int, *, now: datetime | None = None) -> bool:
    """Send one pending mail unless another worker has it or it went. Returns whether it
    went; a failure is recorded and scheduled again, never raised."""
    now = now or timezone.now()
    claimed = (
        OutgoingMail.objects.filter(pk=mail_pk, state=OutgoingMail.State.PENDING)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    mail = OutgoingMail.objects.select_related("message").get(pk=mail_pk)
    try:
        with get_connection(delivery_backend()) as connection:
            connection.send_messages([as_email(mail)])
    except Exception as error:  # SMTP, DNS, sockets, a full disk: all mean "later"
        logger.warning("Could not send mail %s (attempt %s): %s", mail.pk, mail.attempts, error)
        _failed(mail, str(error) or error.__class__.__name__, now=now)
        return False
    OutgoingMail.objects.filter(pk=mail.pk).update(
        state=OutgoingMail.State.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    if mail.message_id:
        Message.objects.filter(pk=mail.message_id).update(sent_at=timezone.now(), send_error="")
    return True


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat's step: deliver pending mail whose time has come. Returns how many went."""
    now = now or timezone.now()
    due = (
        OutgoingMail.objects.filter(state=OutgoingMail.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk, now=now) for pk in list(due))


def resend(mail: OutgoingMail, *, now: datetime | None = None) -> OutgoingMail:
    """An admin sends a mail again: a failed one is retried from scratch; a sent one goes
    once more as a new record, so the first stays as it was."""
    now = now or timezone.now()
    if mail.state == OutgoingMail.State.SENT:
        copy = as_email(mail)
        return enqueue(copy, kind=mail.kind, key=f"resend:{mail.pk}:{uuid.uuid4()}", now=now)
    OutgoingMail.objects.filter(pk=mail.pk).update(
        state=OutgoingMail.State.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
    )
    from mailgateway.tasks import deliver_mail

    transaction.on_commit(lambda: deliver_mail.delay(mail.pk), robust=True)
    mail.refresh_from_db()
    return mail


def as_email(mail: OutgoingMail) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=mail.from_address,
        to=mail.to,
        cc=mail.cc,
        bcc=mail.bcc,
        reply_to=mail.reply_to,
        headers=mail.headers,
    )
    if mail.body_html:
        email.attach_alternative(mail.body_html, "text/html")
    if mail.message is not None:
        for attachment in mail.message.attachments.all():
            with attachment.file.open("rb") as content:
                email.attach(attachment.filename, content.read(), attachment.content_type)
    for filename, content, content_type in mail.attachments:
        email.attach(filename, base64.b64decode(content), content_type)
    return email


def delivery_backend() -> str:
    """The backend that really sends: OUTBOX_BACKEND when the outbox is EMAIL_BACKEND
    (production, the demo), else EMAIL_BACKEND itself (tests put theirs there)."""
    if settings.EMAIL_BACKEND == OUTBOX_BACKEND_PATH:
        return settings.OUTBOX_BACKEND
    return settings.EMAIL_BACKEND


def _failed(mail: OutgoingMail, error: str, *, now: datetime) -> None:
    gave_up = mail.attempts >= MAX_ATTEMPTS
    OutgoingMail.objects.filter(pk=mail.pk).update(
        state=OutgoingMail.State.FAILED if gave_up else OutgoingMail.State.PENDING,
        next_attempt_at=None if gave_up else now + BACKOFF[min(mail.attempts, len(BACKOFF)) - 1],
        claimed_until=None,
        last_error=error[:2000],
    )
    if mail.message_id:
        Message.objects.filter(pk=mail.message_id).update(send_error=error[:1000])


def _encoded(attachments) -> list:
    encoded = []
    for attachment in attachments:
        if isinstance(attachment, tuple | list):
            filename, content, content_type = attachment
            if isinstance(content, str):
                content = content.encode()
            encoded.append(
                [
                    filename,
                    base64.b64encode(content).decode(),
                    content_type or "application/octet-stream",
                ]
            )
        else:  # a MIMEBase part
            encoded.append(
                [
                    attachment.get_filename() or "attachment",
                    base64.b64encode(attachment.get_payload(decode=True) or b"").decode(),
                    attachment.get_content_type(),
                ]
            )
    return encoded


class OutboxBackend(BaseEmailBackend):
    """Django's mail API into the outbox: send_mail() stores, the outbox delivers."""

    def send_messages(self, email_messages) -> int:
        for email in email_messages:
            enqueue(email, kind="django")
        return len(email_messages)
