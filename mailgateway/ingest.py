"""Taking in one received mail: a new request, a message appended to one, or the quarantine.

`ingest` is idempotent. Its first write, inside the transaction that does everything
else, is the ReceivedMail row with the mail's unique key, so a mail fetched twice (a retry,
a crash before the server was told, two workers at once) makes one message: the second
ingestion fails on the key and reports a duplicate. Anything that goes wrong after that
rolls the whole transaction back and keeps the mail whole in the quarantine instead.
Every change of a request goes through tickets.workflow.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from mailgateway import loops, matching
from mailgateway.models import (
    DEFAULT_REOPEN_DAYS,
    Mailbox,
    ReceivedMail,
)
from mailgateway.parse import ParsedMail, ParseError, parse, peek, safe_filename
from tickets import workflow
from tickets.models import (
    Attachment,
    Channel,
    Contact,
    Message,
    Queue,
    Status,
    Ticket,
)

log = logging.getLogger(__name__)

NEW = ReceivedMail.Outcome.NEW
APPENDED = ReceivedMail.Outcome.APPENDED
QUARANTINED = ReceivedMail.Outcome.QUARANTINED
DUPLICATE = "duplicate"

# What creating a request in the queue reads: its New stage, its times per priority, its
# calendar, its default priority's escalation chain.
QUEUE_CONFIGURATION = (
    "stages",
    "priority_times",
    "calendar__opening_hours",
    "calendar__holidays",
    "default_priority__escalation_levels",
)


@dataclass(frozen=True)
class Route:
    """Where mail goes and the rules it is taken in under: a mailbox's, or the defaults
    for mail ingested straight into a queue. Built once per poll, it also carries what
    every mail is checked against (the helpdesk's own addresses, the request numbers) and
    the configuration every new request reads: the queue with QUEUE_CONFIGURATION, the
    status it starts with. A poll takes at most a batch of
    mail, so a change an admin makes applies from the next poll on."""

    queue: Queue
    mailbox: Mailbox | None = None
    reopen_days: int = DEFAULT_REOPEN_DAYS
    own_addresses: frozenset[str] = frozenset()
    numbers: re.Pattern | None = None
    status: Status | None = None

    @classmethod
    def build(cls, *, mailbox: Mailbox | None = None, queue: Queue | None = None) -> "Route":
        if mailbox is None and queue is None:
            raise ValueError("Say which mailbox or queue the mail came in through.")
        rules = {}
        if mailbox is not None:
            rules = {
                "mailbox": mailbox,
                "reopen_days": mailbox.reopen_days,
            }
        queue = (
            Queue.objects.select_related("default_priority", "calendar")
            .prefetch_related(*QUEUE_CONFIGURATION)
            .get(pk=mailbox.queue_id if mailbox else queue.pk)
        )
        return cls(
            queue=queue,
            own_addresses=frozenset(loops.own_addresses()),
            numbers=matching.number_regex(),
            status=Status.builtin(Status.Base.ACTIVE),
            **rules,
        )


@dataclass
class Result:
    outcome: str
    ticket: Ticket | None = None
    message: Message | None = None
    error: str = ""


class IngestError(Exception):
    """The mail parsed but cannot be taken in as it is; it goes to the quarantine."""


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def mail_key(raw: bytes) -> tuple[str, str]:
    """The mail's unique key and its Message-ID. The key is a hash of the Message-ID, or
    of the raw bytes when there is none; it never fails, even on mail that will not parse."""
    end = raw.find(b"\n\n")
    crlf = raw.find(b"\r\n\r\n")
    headers = raw[: min(e for e in (end, crlf, len(raw)) if e >= 0)]
    match = _MESSAGE_ID.search(headers)
    message_id = ""
    if match:
        value = match.group(1).decode("ascii", "replace").strip()
        found = re.search(r"<[^<>\s]+>", value)
        message_id = found.group(0) if found else value.split()[0] if value.split() else ""
    if message_id:
        return "mid:" + hashlib.sha256(message_id.encode()).hexdigest(), message_id[:998]
    return "raw:" + hashlib.sha256(raw).hexdigest(), ""


def ingest(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    queue: Queue | None = None,
    route: Route | None = None,
    now: datetime | None = None,
) -> Result:
    """Take in one mail as received from a mailbox (or straight into a queue). A poll
    passes the `route` it built once for all its mails."""
    route = route or Route.build(mailbox=mailbox, queue=queue)
    now = now or timezone.now()
    key, message_id = mail_key(raw)
    if ReceivedMail.objects.filter(key=key).exists():
        return Result(DUPLICATE)
    if message_id and Message.objects.filter(message_id=message_id).exists():
        return Result(DUPLICATE)  # the helpdesk's own mail, or mail it has from elsewhere
    try:
        mail = parse(raw)
    except ParseError as error:
        return _quarantine(raw, key, message_id, route, now, f"Cannot parse: {error}")
    except Exception as error:  # nothing received is dropped, whatever went wrong
        log.exception("parsing mail %s failed", message_id or key)
        return _quarantine(raw, key, message_id, route, now, f"Cannot parse: {error!r}")
    try:
        with transaction.atomic():
            # First: a concurrent ingestion of the same mail waits here and then fails.
            record = ReceivedMail.objects.create(
                key=key,
                mailbox=route.mailbox,
                queue=route.queue,
                received_at=now,
                message_id=message_id,
                sender=mail.from_address.lower()[:320],
                subject=mail.subject[:998],
                outcome=NEW,
            )
            result = _deliver(mail, raw, key, route, record, now)
            record.outcome = result.outcome
            record.ticket = result.ticket
            record.ticket_message = result.message
            record.save(
                update_fields=[
                    "outcome",
                    "ticket",
                    "ticket_message",
                    "is_automatic",
                ]
            )
            return result
    except IntegrityError as error:
        if ReceivedMail.objects.filter(key=key).exists():
            return Result(DUPLICATE)  # another worker took it in first
        log.exception("storing mail %s failed", message_id or key)
        return _quarantine(raw, key, message_id, route, now, f"Cannot store: {error!r}", mail)
    except (IngestError, workflow.WorkflowError) as error:
        return _quarantine(raw, key, message_id, route, now, str(error), mail)
    except Exception as error:
        log.exception("taking in mail %s failed", message_id or key)
        return _quarantine(raw, key, message_id, route, now, f"Cannot store: {error!r}", mail)


def _quarantine(
    raw: bytes,
    key: str,
    message_id: str,
    route: Route,
    now: datetime,
    error: str,
    mail: ParsedMail | None = None,
) -> Result:
    subject, sender = (mail.subject, mail.from_address) if mail else peek(raw)
    try:
        with transaction.atomic():
            ReceivedMail.objects.create(
                key=key,
                mailbox=route.mailbox,
                queue=route.queue,
                received_at=now,
                message_id=message_id,
                sender=sender.lower()[:320],
                subject=subject[:998],
                outcome=QUARANTINED,
                raw=raw,
                error=error,
            )
    except IntegrityError:
        return Result(DUPLICATE)
    log.warning("quarantined mail %s: %s", message_id or key, error)
    return Result(QUARANTINED, error=error)


def retry(received_pk: int, *, now: datetime | None = None) -> Result:
    """Take in a quarantined mail again (after a fix). It leaves the quarantine when it
    goes in; otherwise it stays with the new error."""
    now = now or timezone.now()
    with transaction.atomic():
        record = ReceivedMail.objects.select_for_update().filter(pk=received_pk).first()
        if record is None or record.outcome != QUARANTINED:
            return Result(DUPLICATE)
        raw = bytes(record.raw)
        queue = record.queue or (record.mailbox.queue if record.mailbox else None)
        if queue is None:
            return Result(QUARANTINED, error="The mailbox and queue it came through are gone.")
        route = Route.build(mailbox=record.mailbox, queue=queue)
        record.retried_at = now
        try:
            with transaction.atomic():
                mail = parse(raw)
                result = _deliver(mail, raw, record.key, route, record, now)
        except Exception as error:
            record.error = f"Retry failed: {error}"
            record.save(update_fields=["error", "retried_at"])
            return Result(QUARANTINED, error=record.error)
        record.outcome = result.outcome
        record.ticket = result.ticket
        record.ticket_message = result.message
        record.sender = mail.from_address.lower()[:320]
        record.subject = mail.subject[:998]
        record.raw = b""
        record.error = ""
        record.save()
        return result


# --- delivery --------------------------------------------------------------------------


def _deliver(
    mail: ParsedMail, raw: bytes, key: str, route: Route, record: ReceivedMail, now: datetime
) -> Result:
    automatic = loops.automatic_reason(mail, route.own_addresses)
    record.is_automatic = bool(automatic)
    match = matching.find_request(mail, route.numbers)
    if match is not None:
        target = match.ticket
        if target.base_status == Status.Base.MERGED and target.merged_into_id:
            target = target.merged_into
        if match.bounce or match.external:
            message = _append(target, mail, raw, key, now, contact=None, match=match)
            return Result(APPENDED, target, message)
        if target.base_status != Status.Base.DELETED:
            contact = _contact(mail, known=match.ticket.contact)
            target = _wake(target, route, now, automatic=bool(automatic))
            if target is not None:
                message = _append(target, mail, raw, key, now, contact=contact, match=match)
                return Result(APPENDED, target, message)
    contact = _contact(mail, known=match.ticket.contact if match else None)
    ticket, message = _create(mail, raw, key, route, contact, now)
    if match is not None:
        workflow.link_tickets(ticket, match.ticket, by=None, now=now)
    return Result(NEW, ticket, message)


def _wake(ticket: Ticket, route: Route, now: datetime, *, automatic: bool) -> Ticket | None:
    """A customer's answer to a closed request reopens it within the mailbox's window
    (None after it: a new request starts); an answer to a postponed one wakes it.
    Automatic mail never reopens anything."""
    if automatic or ticket.base_status == Status.Base.ACTIVE:
        return ticket
    if ticket.base_status == Status.Base.CLOSED:
        closed_at = ticket.closed_at or ticket.updated_at
        if closed_at < now - timedelta(days=route.reopen_days):
            return None
        return workflow.reactivate_ticket(
            ticket, by=None, reason="The customer wrote again by email.", now=now
        )
    if ticket.base_status == Status.Base.POSTPONED:
        return workflow.reactivate_ticket(
            ticket, by=None, reason="The customer answered by email.", now=now
        )
    return ticket


def _contact(mail: ParsedMail, *, known: Contact | None = None) -> Contact:
    """The sender as a Contact, found case-insensitively or created with their name. The
    `known` contact (the matched request's) is the sender when the addresses match."""
    for address in mail.addresses_from:
        try:
            validate_email(address)
        except ValidationError:
            continue
        name = mail.from_name if address == mail.from_address else ""
        if known is not None and _same_address(known.email, address):
            contact = known
        else:
            # With the company: the acknowledgement's placeholders name it.
            contact = Contact.objects.select_related("company").find_or_create(address, name=name)
        if name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        return contact
    raise IngestError(
        f"No valid sender address (From: {mail.header('from') or 'missing'}); "
        "a request needs a contact."
    )


def _same_address(stored: str, address: str) -> bool:
    """The database's lower() and Python's agree on ASCII only (SQLite folds nothing
    else); any other address is left to the database to compare."""
    stored, address = stored.strip(), address.strip()
    return stored.isascii() and address.isascii() and stored.lower() == address.lower()


def _headers(mail: ParsedMail, raw: bytes, key: str) -> dict:
    return {
        "from_address": (
            f"{mail.from_name} <{mail.from_address}>" if mail.from_name else mail.from_address
        )[:320]
        or mail.header("from")[:320],
        "to": mail.to,
        "cc": mail.cc,
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": " ".join(mail.references),
        "raw": ContentFile(raw, name=f"{key.split(':')[1][:32]}.eml"),
    }


def _body(mail: ParsedMail, skipped: list[str]) -> str:
    notes = [*mail.notes, *skipped]
    if not notes:
        return mail.body_text
    return "\n\n".join([mail.body_text, *(f"[{note}]" for note in notes)]).strip()


def _too_large(mail: ParsedMail) -> list[str]:
    limit = settings.MAX_ATTACHMENT_BYTES
    return [
        f"The attachment {a.filename} ({a.size // 2**20} MB) is larger than the "
        f"{limit // 2**20} MB limit; it is kept only in the original mail."
        for a in mail.attachments
        if a.size > limit
    ]


def _append(
    ticket: Ticket,
    mail: ParsedMail,
    raw: bytes,
    key: str,
    now: datetime,
    *,
    contact: Contact | None,
    match: matching.Match,
) -> Message:
    hidden = match.external or match.bounce
    message = workflow.add_message(
        ticket,
        by=None,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        contact=None if hidden else contact,
        subject=mail.subject[:998],
        body_text=_body(mail, _too_large(mail)),
        body_html=mail.body_html,
        is_public=not hidden,
        is_external=match.external,
        now=now,
        **_headers(mail, raw, key),
    )
    _store_attachments(message, mail)
    return message


def _create(
    mail: ParsedMail, raw: bytes, key: str, route: Route, contact: Contact, now: datetime
) -> tuple[Ticket, Message]:
    ticket = workflow.create_ticket(
        queue=route.queue,
        subject=mail.subject or "(no subject)",
        by=None,
        channel=Channel.EMAIL,
        contact=contact,
        body=_body(mail, _too_large(mail)),
        body_html=mail.body_html,
        message_headers={**_headers(mail, raw, key), "subject": mail.subject[:998]},
        status=route.status,
        now=now,
    )
    message = ticket.first_message
    _store_attachments(message, mail)
    return ticket, message


def _store_attachments(message: Message, mail: ParsedMail) -> None:
    limit = settings.MAX_ATTACHMENT_BYTES
    for index, part in enumerate(mail.attachments, start=1):
        if part.size > limit:
            continue
        name = safe_filename(part.filename, index)
        Attachment.objects.create(
            message=message,
            file=ContentFile(part.data, name=name)
            if isinstance(part.data, bytes)
            else File(part.data, name=name),
            filename=part.filename[:255] or f"attachment-{index}",
            content_type=part.content_type[:255],
            size=part.size,
            content_id=part.content_id,
        )
        if not isinstance(part.data, bytes):
            part.data.close()
        part.data = b""  # a large attachment's bytes are not needed twice
