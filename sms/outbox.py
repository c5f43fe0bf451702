"""The one way an SMS leaves the helpdesk: stored first, then delivered with retries.

`enqueue` writes an OutgoingSms in the caller's transaction (one per message: the same
message twice is one row) and hands its id to a Celery task after the commit. The task
sends it through SMS_BACKEND; a failure is kept on the row and tried again later with a
growing pause by the beat step `deliver_due`, which also picks up SMS whose task never
ran. Delivery claims the row first, so two workers never send the same SMS; one the
provider took is never sent again. The provider's status callbacks (`record_status`) say
afterwards whether it reached the phone.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sms import backends
from sms.models import OutgoingSms
from tickets.models import Message

logger = logging.getLogger(__name__)

Status = OutgoingSms.Status

# Pauses before the 1st, 2nd, ... retry, as the mail outbox's: a provider back within the
# hour loses nothing, and one down for a day is not hammered.
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440)]
MAX_ATTEMPTS = len(BACKOFF) + 1
CLAIM = timedelta(minutes=5)  # longer than a send can take (OUTBOUND_HTTP_TIMEOUT)

# What a provider's status callback may say: the final word on an SMS it took, or news
# on its way there, which changes nothing here.
FINAL = {Status.DELIVERED, Status.FAILED, Status.UNDELIVERED}
ON_ITS_WAY = {"accepted", "scheduled", "queued", "sending", "sent"}


class UnknownSms(LookupError):
    """No SMS has this provider id."""


class UnknownStatus(ValueError):
    """A status the callback may not report."""


def enqueue(message: Message, *, now: datetime | None = None) -> OutgoingSms:
    """Store this SMS message of a request for delivery after the commit."""
    now = now or timezone.now()
    sms, created = OutgoingSms.objects.get_or_create(
        message=message,
        defaults={
            "to": message.to,
            "body": message.body_text,
            "sender": settings.SMS_SENDER,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        _send_after_commit(sms.pk)
    return sms


def deliver(sms_pk: int, *, now: datetime | None = None) -> bool:
    """Send one queued SMS unless another worker has it or it went. Returns whether it
    went; a failure is recorded and scheduled again, never raised."""
    now = now or timezone.now()
    claimed = (
        OutgoingSms.objects.filter(pk=sms_pk, status=Status.QUEUED)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    sms = OutgoingSms.objects.get(pk=sms_pk)
    try:
        provider_id = backends.get_backend().send(
            sms.to, sms.body, sender=sms.sender, reference=f"sms:{sms.pk}"
        )
    except Exception as error:  # the provider, the network, a wrong setting: all "later"
        logger.warning("Could not send SMS %s (attempt %s): %s", sms.pk, sms.attempts, error)
        _failed(sms, str(error) or error.__class__.__name__, now=now)
        return False
    OutgoingSms.objects.filter(pk=sms.pk).update(
        status=Status.SENT,
        provider_id=provider_id[:64],
        sent_at=now,
        status_at=now,
        claimed_until=None,
        next_attempt_at=None,
        last_error="",
    )
    if sms.message_id:
        Message.objects.filter(pk=sms.message_id).update(sent_at=now, send_error="")
    return True


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat's step: send queued SMS whose time has come. Returns how many went."""
    now = now or timezone.now()
    due = (
        OutgoingSms.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk, now=now) for pk in list(due))


def record_status(
    provider_id: str, status: str, error: str = "", *, now: datetime | None = None
) -> OutgoingSms:
    """The provider's word on an SMS it took: delivered, failed or undelivered (news on
    its way, such as "sending", is accepted and changes nothing). Raises UnknownSms for an
    id we never got, UnknownStatus for another status."""
    now = now or timezone.now()
    status = (status or "").strip().lower()
    if status not in FINAL and status not in ON_ITS_WAY:
        raise UnknownStatus(
            f"“{status}” is not a status of an SMS: "
            f"say one of {', '.join(sorted(FINAL | ON_ITS_WAY))}."
        )
    sms = (
        OutgoingSms.objects.filter(provider_id=provider_id).order_by("-pk").first()
        if provider_id
        else None
    )
    if sms is None:
        raise UnknownSms(f"No SMS was sent with the provider id “{provider_id}”.")
    # A queued one is being sent again (an admin's "send again"): the old id's news is
    # about a send that is over.
    if status in ON_ITS_WAY or sms.status == Status.QUEUED:
        return sms
    if status == Status.DELIVERED:
        error = ""
    else:
        error = error.strip()[:2000] or f"The provider reports the SMS {status}."
    OutgoingSms.objects.filter(pk=sms.pk).update(status=status, status_at=now, last_error=error)
    if sms.message_id:
        Message.objects.filter(pk=sms.message_id).update(send_error=error[:1000])
    sms.refresh_from_db()
    return sms


def resend(sms: OutgoingSms, *, now: datetime | None = None) -> bool:
    """An admin sends an SMS again: a failed or undelivered one gets a fresh round of
    attempts, a queued one is tried now. One the provider took or delivered is not sent
    twice (returns False)."""
    now = now or timezone.now()
    again = OutgoingSms.objects.filter(
        pk=sms.pk, status__in=[Status.QUEUED, Status.FAILED, Status.UNDELIVERED]
    ).update(status=Status.QUEUED, attempts=0, next_attempt_at=now, claimed_until=None)
    if again:
        _send_after_commit(sms.pk)
    sms.refresh_from_db()
    return bool(again)


def _send_after_commit(sms_pk: int) -> None:
    from sms.tasks import deliver_sms  # tasks import this module

    transaction.on_commit(lambda: deliver_sms.delay(sms_pk), robust=True)


def _failed(sms: OutgoingSms, error: str, *, now: datetime) -> None:
    gave_up = sms.attempts >= MAX_ATTEMPTS
    OutgoingSms.objects.filter(pk=sms.pk).update(
        status=Status.FAILED if gave_up else Status.QUEUED,
        next_attempt_at=None if gave_up else now + BACKOFF[min(sms.attempts, len(BACKOFF)) - 1],
        claimed_until=None,
        last_error=error[:2000],
        status_at=now if gave_up else sms.status_at,
    )
    if sms.message_id:
        Message.objects.filter(pk=sms.message_id).update(send_error=error[:1000])
