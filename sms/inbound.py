"""Taking in an SMS: a message on the sender's open request, a new request, or the
quarantine.

`receive` stores the SMS first, in the transaction that does everything else, under the
provider's unique id: a webhook the provider retries (or two at once) makes one message,
the second waiting for the first and then finding it. What goes wrong after that (an
unknown number, a workflow refusal, a bug) is rolled back to that point and the SMS stays
whole in the quarantine with the reason; `process_again` takes it in once that is fixed
(an agent added the number to a contact). Every change of a request goes through
tickets.workflow.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from sms.models import IncomingSms
from tickets import workflow
from tickets.models import Channel, Contact, Message, Queue, Ticket
from tickets.sms import InvalidNumber, normalise_number

logger = logging.getLogger(__name__)

PROCESSED = IncomingSms.State.PROCESSED
QUARANTINED = IncomingSms.State.QUARANTINED
DEFAULT_QUEUE = "Support"  # the queue seed_demo makes, other commands' default too
SUBJECT_WORDS = 8
SUBJECT_LENGTH = 60


class InvalidPayload(ValueError):
    """The provider's payload lacks what an SMS needs; the message says what."""


class Unroutable(Exception):
    """The SMS cannot go anywhere yet; the message says what would let it."""


@dataclass(frozen=True)
class Fields:
    provider_id: str
    from_number: str
    to_number: str
    body: str


def read(payload: dict) -> Fields:
    """The fields of a Twilio-style payload: MessageSid, From, To and Body."""
    if not isinstance(payload, dict):
        raise InvalidPayload("The payload is not an object of fields.")
    wrong = [
        name
        for name in ("MessageSid", "From", "To", "Body")
        if not isinstance(payload.get(name), str) or (name != "Body" and not payload[name].strip())
    ]
    if wrong:
        raise InvalidPayload(f"Missing or not text: {', '.join(wrong)}.")
    provider_id = payload["MessageSid"].strip()
    if len(provider_id) > 64:
        raise InvalidPayload("MessageSid is longer than 64 characters.")
    return Fields(
        provider_id,
        payload["From"].strip()[:40],
        payload["To"].strip()[:40],
        payload["Body"].strip(),
    )


def receive(payload: dict, *, now: datetime | None = None) -> IncomingSms:
    """Store and take in one SMS; the same provider id again returns the first one's
    record and makes nothing. Raises InvalidPayload (and stores nothing) when the payload
    is no SMS."""
    fields = read(payload)
    now = now or timezone.now()
    with transaction.atomic():
        # First: a retried webhook meanwhile waits here, then finds this row.
        incoming, created = IncomingSms.objects.get_or_create(
            provider_id=fields.provider_id,
            defaults={
                "payload": payload,
                "from_number": fields.from_number,
                "to_number": fields.to_number,
                "body": fields.body,
                "received_at": now,
                "state": QUARANTINED,
                "reason": "Not taken in yet.",
            },
        )
        if created:
            _process(incoming, now=now)
    return incoming


def process_again(incoming: IncomingSms, *, now: datetime | None = None) -> IncomingSms:
    """Take a quarantined SMS in again; it leaves the quarantine when it goes in, or
    stays with the new reason. A processed one is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = IncomingSms.objects.select_for_update().get(pk=incoming.pk)
        if locked.state == QUARANTINED:
            _process(locked, now=now)
    return locked


def subject_for(body: str, number: str) -> str:
    """A new request's subject: the text's first words."""
    words = body.split()
    if not words:
        return f"SMS from {number}"
    subject = words[0][:SUBJECT_LENGTH]
    for word in words[1:SUBJECT_WORDS]:
        if len(subject) + 1 + len(word) > SUBJECT_LENGTH:
            break
        subject = f"{subject} {word}"
    return subject if subject == " ".join(words) else f"{subject}…"


def _process(incoming: IncomingSms, *, now: datetime) -> None:
    try:
        with transaction.atomic():
            message = _thread(incoming, now=now)
    except (Unroutable, workflow.WorkflowError) as problem:
        reason = str(problem)
    except Exception as error:  # nothing received is dropped, whatever went wrong
        logger.exception("taking in SMS %s failed", incoming.provider_id)
        reason = f"Cannot take it in: {error!r}"
    else:
        incoming.state, incoming.reason = PROCESSED, ""
        incoming.ticket, incoming.message = message.ticket, message
        incoming.save(update_fields=["state", "reason", "ticket", "message"])
        return
    logger.warning("quarantined SMS %s: %s", incoming.provider_id, reason)
    incoming.state, incoming.reason = QUARANTINED, reason
    incoming.save(update_fields=["state", "reason"])


def _thread(incoming: IncomingSms, *, now: datetime) -> Message:
    """The sender's most recently updated open request gets the message; with none open,
    a new request for the sender."""
    try:
        number = normalise_number(incoming.from_number)
    except InvalidNumber as error:
        raise Unroutable(f"The sender's number cannot be read: {error}") from error
    headers = {"from_address": number, "to": _e164_or_as_is(incoming.to_number)}
    contacts = Contact.objects.filter(mobile=number)
    ticket = (
        Ticket.objects.open()
        .filter(contact__in=contacts)
        .select_related("contact")
        .order_by("-updated_at", "-pk")
        .first()
    )
    if ticket is not None:
        return workflow.add_message(
            ticket,
            by=None,
            kind=Message.Kind.SMS,
            direction=Message.Direction.INBOUND,
            contact=ticket.contact,
            body_text=incoming.body,
            now=now,
            **headers,
        )
    # None open: the contact who wrote to us last (of several sharing a phone)
    contact = (
        contacts.annotate(latest=Max("tickets__updated_at"))
        .order_by(F("latest").desc(nulls_last=True), "pk")
        .first()
    )
    if contact is None:
        raise Unroutable(
            f"No contact has the mobile number {number}: add it to the sender's contact, "
            "then process the SMS again."
        )
    ticket = workflow.create_ticket(
        channel=Channel.SMS,
        contact=contact,
        body=incoming.body,
        subject=subject_for(incoming.body, number),
        queue=_queue(),
        by=None,
        message_headers=headers,
        now=now,
    )
    return ticket.first_message


def _queue() -> Queue:
    name = settings.SMS_QUEUE or DEFAULT_QUEUE
    queue = Queue.objects.filter(name=name).first()
    if queue is None:
        raise Unroutable(
            f"There is no queue named “{name}” for requests opened by SMS: "
            "set SMS_QUEUE to one, then process the SMS again."
        )
    return queue


def _e164_or_as_is(number: str) -> str:
    try:
        return normalise_number(number)
    except InvalidNumber:
        return number  # our own number, as the provider wrote it: nothing depends on it
