"""The request's timeline: messages, notes, email to the customer and outside parties,
and colleagues asked in.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from tickets import events, html, mail_headers, sms
from tickets.models import Attachment, Contact, Message, Ticket
from tickets.workflow.core import Actor, WorkflowError, _Change, _ensure_editable, _lock
from tickets.workflow.timekeeping import _switch_counter


@transaction.atomic
def add_message(
    ticket: Ticket,
    *,
    by: Actor,
    kind: str,
    direction: str,
    contact: Contact | None = None,
    body_text: str = "",
    body_html: str = "",
    subject: str = "",
    is_public: bool | None = None,
    time_units: int = 0,
    now: datetime | None = None,
    log: bool = True,
    notify: bool = True,
    **headers,
) -> Message:
    """Append a message to the timeline. A customer's message marks the request unread for
    its owner and, unless `notify` is off (the first message), tells the owner. Notes and
    external-party mail are hidden from the customer by default. An outside party's
    answer (is_external, inbound) stops the external time counter."""
    _lock(ticket)
    _ensure_editable(ticket)
    return _append_message(
        ticket,
        by=by,
        kind=kind,
        direction=direction,
        contact=contact,
        is_public=is_public,
        now=now,
        log=log,
        notify=notify,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        time_units=time_units,
        **headers,
    )


def _append_message(
    ticket: Ticket,
    *,
    by: Actor,
    kind: str,
    direction: str,
    contact: Contact | None = None,
    is_public: bool | None = None,
    now: datetime | None = None,
    log: bool = True,
    notify: bool = True,
    **fields,
) -> Message:
    """add_message's writing, for a step that holds the request's row lock already (or
    has just made the row); `fields` are the Message's own (text, subject, headers)."""
    now = now or timezone.now()
    if is_public is None:
        is_public = kind != Message.Kind.NOTE and direction != Message.Direction.INTERNAL
    if fields.get("body_html"):
        fields["body_html"] = html.sanitize(fields["body_html"])  # whoever wrote it
    message = Message.objects.create(
        ticket=ticket,
        kind=kind,
        direction=direction,
        is_public=is_public,
        author=by,
        author_contact=contact,
        created_at=now,
        **fields,
    )
    change = _Change(ticket, by=by, now=now)
    change.set_quietly("updated_at", now)
    if kind == Message.Kind.NOTE:
        change.tell(events.NOTE_ADDED, message=message.pk)
    if direction == Message.Direction.INBOUND:
        # `first`: the message that opened the request, told of by CREATED already
        change.tell(events.MESSAGE_RECEIVED, message=message.pk, first=not notify)
    if direction == Message.Direction.INBOUND and contact is not None:
        change.set_quietly("is_unread", True)
    if direction == Message.Direction.INBOUND and message.is_external:
        change.set_quietly("awaiting_external", False)
        _switch_counter(change)
    if _is_first_agent_reply(ticket, message):
        change.set("replied_at", now, action="first_reply")
    if log:
        change.log("message_added", field="message", new=message.get_kind_display())
    change.save()
    return message


def add_note(
    ticket: Ticket,
    *,
    text: str,
    by: Actor,
    pinned: bool = False,
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """An internal note: agents only, never shown to the customer."""
    if not text or not text.strip():
        raise WorkflowError("A note needs some text.")
    with transaction.atomic():
        note = add_message(
            ticket,
            by=by,
            kind=Message.Kind.NOTE,
            direction=Message.Direction.INTERNAL,
            body_text=text.strip(),
            is_public=False,
            time_units=time_units,
            now=now,
        )
        if pinned:
            pin_note(note, pinned=True, by=by, now=now)
    return note


@transaction.atomic
def pin_note(note: Message, *, pinned: bool, by: Actor, now: datetime | None = None) -> Message:
    """Pinned notes show at the top of the request."""
    if note.kind != Message.Kind.NOTE:
        raise WorkflowError("Only internal notes can be pinned.")
    _ensure_editable(_lock(note.ticket))
    if note.is_pinned != pinned:
        note.is_pinned = pinned
        note.save(update_fields=["is_pinned"])
        change = _Change(note.ticket, by=by, now=now)
        change.log("note_pinned" if pinned else "note_unpinned", field="note", new=note.pk)
        change.save()
    return note


@transaction.atomic
def correct_time_units(
    message: Message, *, units: int, by: Actor, now: datetime | None = None
) -> Message:
    """The time units of an article (reply, note, call), corrected by its author within
    TIME_UNITS_CORRECTABLE_MINUTES of writing it; the old and new count in the history."""
    now = now or timezone.now()
    if by is None or message.author_id != by.pk:
        raise WorkflowError("Only the article's author may correct its time units.")
    minutes = settings.TIME_UNITS_CORRECTABLE_MINUTES
    if now - message.created_at > timedelta(minutes=minutes):
        raise WorkflowError(
            f"Time units can be corrected for {minutes} minutes after writing; "
            "this article is older."
        )
    if units < 0:
        raise WorkflowError("Time units cannot be negative.")
    _ensure_editable(_lock(message.ticket))
    if message.time_units != units:
        change = _Change(message.ticket, by=by, now=now)
        change.log("time_units_corrected", field="time_units", old=message.time_units, new=units)
        message.time_units = units
        message.save(update_fields=["time_units"])
        change.save()
    return message


@transaction.atomic
def delete_note(note: Message, *, by: Actor, now: datetime | None = None) -> None:
    """Only the latest note may be deleted, and only by its author. Its text stays in the
    history."""
    ticket = _lock(note.ticket)
    _ensure_editable(ticket)
    if note.kind != Message.Kind.NOTE:
        raise WorkflowError("Only internal notes can be deleted.")
    if by is None or note.author_id != by.pk:
        raise WorkflowError("Only the author of a note can delete it.")
    latest = ticket.messages.filter(kind=Message.Kind.NOTE).order_by("created_at", "pk").last()
    if latest.pk != note.pk:
        raise WorkflowError("Only the latest note can be deleted.")
    change = _Change(ticket, by=by, now=now)
    change.log("note_deleted", field="note", old=note.body_text)
    note.delete()
    change.save()


def mark_read(ticket: Ticket, *, by: Actor) -> None:
    """Opening a request marks it read for its owner (only for them: others' reading
    changes nothing, and reading is not history)."""
    if ticket.is_unread and by is not None and ticket.owner_id == by.pk:
        Ticket.objects.filter(pk=ticket.pk).update(is_unread=False)
        ticket.is_unread = False


def _is_first_agent_reply(ticket: Ticket, message: Message) -> bool:
    """Response time counts to the first answer an agent sends the customer."""
    return (
        ticket.replied_at is None
        and message.author_id is not None
        and message.direction == Message.Direction.OUTBOUND
        and message.is_public
    )


def attach_files(message: Message, files: Iterable) -> None:
    """Store uploaded files through Django's storage, under safe names."""
    for upload in files:
        if upload.size > settings.MAX_ATTACHMENT_BYTES:
            raise WorkflowError(
                f"“{upload.name}” is larger than {settings.MAX_ATTACHMENT_BYTES // 2**20} MB."
            )
        filename = get_valid_filename(upload.name.rsplit("/", 1)[-1]) or "attachment"
        Attachment.objects.create(
            message=message,
            file=File(upload, name=filename),
            filename=filename,
            content_type=getattr(upload, "content_type", None) or "application/octet-stream",
            size=upload.size,
        )


@transaction.atomic
def send_email(
    ticket: Ticket,
    *,
    by: Actor,
    body: str,
    to: str,
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    attachments: Iterable = (),
    time_units: int = 0,
    external: bool = False,
    automatic: bool = False,
    action: str = "emailed",
    from_address: str = "",
    answering: Message | None = None,
    now: datetime | None = None,
) -> Message:
    """Write an outbound email into the timeline and send it once the transaction commits.

    Its threading headers are fixed now, so a retried send is the same mail: it answers
    the message given (`answering`), by default the latest of its conversation. Mail to
    an outside party (`external`) is hidden from the customer and threads separately. It
    goes out from `from_address`, by default the queue's; when neither is set the mail
    gateway chooses (a mailbox's reply address) as it sends."""
    if not to.strip():
        raise WorkflowError("Say whom the email goes to.")
    if not body.strip():
        raise WorkflowError("The email has no text.")
    _lock(ticket)
    _ensure_editable(ticket)
    if answering is not None:
        in_reply_to, references = mail_headers.answer_headers(answering)
    else:
        in_reply_to, references = mail_headers.thread_headers(ticket, external=external)
    message = _append_message(
        ticket,
        by=by,
        kind=Message.Kind.SYSTEM if automatic else Message.Kind.EMAIL,
        direction=Message.Direction.OUTBOUND,
        subject=mail_headers.subject_for(ticket, subject),
        body_text=body,
        is_public=not external,
        is_external=external,
        time_units=time_units,
        from_address=from_address or ticket.queue.email_address,
        to=to.strip(),
        cc=cc.strip(),
        bcc=bcc.strip(),
        message_id=mail_headers.new_message_id(),
        in_reply_to=in_reply_to,
        references=references,
        now=now,
        log=False,
    )
    attach_files(message, attachments)
    change = _Change(ticket, by=by, now=message.created_at)
    if action:
        change.log(action, field="to", new=message.to)
    change.tell(events.MESSAGE_SENT, message=message.pk, kind=message.kind)
    change.save()
    return message


@transaction.atomic
def reply_to_customer(
    ticket: Ticket,
    *,
    by: Actor,
    body: str,
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    attachments: Iterable = (),
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """Answer the customer by email. The first agent reply sets replied_at (add_message)."""
    _lock(ticket)
    _ensure_editable(ticket)
    if ticket.contact is None:
        raise WorkflowError(f"{ticket.number} is internal: there is no customer to reply to.")
    message = send_email(
        ticket,
        by=by,
        body=body,
        to=ticket.contact.email,
        cc=cc,
        bcc=bcc,
        subject=subject,
        attachments=attachments,
        time_units=time_units,
        action="replied",
        now=now,
    )
    return message


@transaction.atomic
def send_sms(
    ticket: Ticket,
    *,
    by: Actor,
    body: str,
    to: str = "",
    time_units: int = 0,
    action: str = "texted",
    now: datetime | None = None,
) -> Message:
    """Write an outbound SMS into the timeline; the `sms` app sends it once the
    transaction commits (message_sent). It goes to `to`, by default the contact's
    mobile number, and must fit in SMS_MAX_SEGMENTS messages of the network."""
    body = body.strip()
    if not body:
        raise WorkflowError("The SMS has no text.")
    if reason := sms.too_long(body):
        raise WorkflowError(reason)
    if not to.strip():
        if ticket.contact is None:
            raise WorkflowError(f"{ticket.number} is internal: there is no customer to text.")
        if not ticket.contact.mobile:
            raise WorkflowError(
                f"{ticket.contact} has no mobile number: add one to the contact first."
            )
    try:
        number = sms.normalise_number(to or ticket.contact.mobile)
    except sms.InvalidNumber as error:
        raise WorkflowError(str(error)) from error
    _lock(ticket)
    _ensure_editable(ticket)
    message = _append_message(
        ticket,
        by=by,
        kind=Message.Kind.SMS,
        direction=Message.Direction.OUTBOUND,
        body_text=body,
        time_units=time_units,
        to=number,
        now=now,
        log=False,
    )
    change = _Change(ticket, by=by, now=message.created_at)
    if action:
        change.log(action, field="to", new=number)
    change.tell(events.MESSAGE_SENT, message=message.pk, kind=message.kind)
    change.save()
    return message


@transaction.atomic
def forward_to_external(
    ticket: Ticket,
    *,
    by: Actor,
    to: str,
    body: str,
    attachments: Iterable = (),
    time_units: int = 0,
    now: datetime | None = None,
) -> Message:
    """Send the request to an outside party (a supplier, a sub-contractor). Their answer
    threads back in as an external message the customer never sees; until it does, the
    external time counter runs."""
    _lock(ticket)
    _ensure_editable(ticket)
    history = "\n\n".join(
        f"--- {m.sender_name}, {m.created_at:%Y-%m-%d %H:%M} ---\n{m.body_text}"
        for m in ticket.timeline_messages().for_customer()
    )
    message = send_email(
        ticket,
        by=by,
        body=f"{body.strip()}\n\n{history}" if history else body,
        to=to,
        subject=f"Fwd: {ticket.subject}",
        attachments=attachments,
        time_units=time_units,
        external=True,
        action="forwarded",
        now=now,
    )
    change = _Change(ticket, by=by, now=message.created_at)
    change.set_quietly("awaiting_external", True)
    _switch_counter(change)
    change.save()
    return message


@transaction.atomic
def ask_colleague(
    ticket: Ticket,
    *,
    colleague: AbstractBaseUser,
    question: str,
    by: Actor,
    now: datetime | None = None,
) -> Message:
    """Bring a colleague in: they become a collaborator, the question is an internal note,
    and they are told in the desk and by email."""
    if not question or not question.strip():
        raise WorkflowError("Write the question for your colleague.")
    if by is not None and colleague.pk == by.pk:
        raise WorkflowError("Ask someone other than yourself.")
    if not colleague.email:
        raise WorkflowError(f"{colleague.get_username()} has no email address to be told at.")
    note = add_note(ticket, text=question, by=by, now=now)
    change = _Change(ticket, by=by, now=note.created_at)
    if not ticket.collaborators.filter(pk=colleague.pk).exists():
        ticket.collaborators.add(colleague)
        change.log("collaborator_added", field="collaborators", new=colleague)
        _switch_counter(change)
    change.tell(events.COLLEAGUE_ASKED, colleague=colleague.pk, note=note.pk)
    change.save()
    return note
