from django.db import models
from django.db.models import Q

from tickets.models import Message, Queue, Ticket

# Defaults shared by mailboxes and by ingestion without one (`ingest_eml --queue`).
DEFAULT_REOPEN_DAYS = 14
DEFAULT_ACKS_PER_HOUR = 3


class Mailbox(models.Model):
    """Where customer mail is fetched from, and the queue it lands in."""

    class Protocol(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"
        MAILDIR = "maildir", "Local Maildir"

    class Security(models.TextChoices):
        TLS = "tls", "TLS (implicit, e.g. port 993/995)"
        STARTTLS = "starttls", "STARTTLS"
        PLAIN = "plain", "None (plain text; only on a trusted network)"

    name = models.CharField(max_length=100, unique=True)
    protocol = models.CharField(max_length=10, choices=Protocol.choices, default=Protocol.IMAP)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the default.")
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(max_length=255, blank=True)
    password = models.CharField(max_length=255, blank=True)
    folder = models.CharField(
        max_length=500,
        default="INBOX",
        help_text="The IMAP folder, or the Maildir's path for a local Maildir.",
    )
    delete_after_fetch = models.BooleanField(
        default=False,
        help_text="Delete fetched mail from the server. Otherwise IMAP mail is flagged as "
        "read and POP3 mail stays, remembered by its UIDL.",
    )
    poll_interval = models.PositiveIntegerField(default=60, help_text="Seconds between polls.")
    is_active = models.BooleanField(default=True)
    queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="mailboxes",
        help_text="New requests land here.",
    )
    reply_address = models.EmailField(
        blank=True, help_text="Replies go out from this address; empty: the queue's address."
    )
    send_acknowledgement = models.BooleanField(
        default=True, help_text="Confirm a new request to its sender (never to automatic mail)."
    )
    acks_per_hour = models.PositiveIntegerField(
        default=DEFAULT_ACKS_PER_HOUR,
        help_text="At most this many acknowledgements to one sender in an hour.",
    )
    reopen_days = models.PositiveIntegerField(
        default=DEFAULT_REOPEN_DAYS,
        help_text="A reply this many days after its request was closed starts a new, linked "
        "request instead of reopening it.",
    )

    # Poll state, written only by mailgateway.fetch.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is polling it until then (or crashed)."
    )
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    uid_validity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        indexes = [
            # The beat's tick: active mailboxes whose next poll is due.
            models.Index(fields=["is_active", "next_poll_at"], name="mailbox_due"),
        ]

    def __str__(self):
        return self.name


class ReceivedMail(models.Model):
    """One received mail, whatever became of it. Its unique key (the Message-ID, or the
    hash of the raw bytes when there is none) is what makes ingestion idempotent: the
    second of two concurrent ingestions of the same mail fails on it and stops."""

    class Outcome(models.TextChoices):
        NEW = "new", "New request"
        APPENDED = "appended", "Appended to a request"
        QUARANTINED = "quarantined", "Quarantined"

    key = models.CharField(max_length=80, unique=True)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="received"
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The queue it was taken in for (a retry from the quarantine uses it).",
    )
    received_at = models.DateTimeField()
    message_id = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=320, blank=True, help_text="Lower-cased address.")
    subject = models.CharField(max_length=998, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The message of the request that this mail became.",
    )
    acknowledged = models.BooleanField(default=False)
    is_automatic = models.BooleanField(default=False, help_text="Auto-generated (RFC 3834).")
    # The quarantine: the whole mail as received, and why it could not be taken in.
    raw = models.BinaryField(blank=True, default=b"", editable=False)
    error = models.TextField(blank=True)
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The per-sender acknowledgement cap: a sender's acknowledged mail in the last hour.
            models.Index(
                fields=["sender", "received_at"],
                condition=Q(acknowledged=True),
                name="receivedmail_acked_sender",
            ),
            # The admin's quarantine list.
            models.Index(
                fields=["-received_at"],
                condition=Q(outcome="quarantined"),
                name="receivedmail_quarantined",
            ),
        ]

    def __str__(self):
        return self.subject or self.message_id or self.key


class QuarantinedMailManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(outcome=ReceivedMail.Outcome.QUARANTINED)


class QuarantinedMail(ReceivedMail):
    """Received mail that could not be parsed or stored, kept whole for an admin to retry."""

    objects = QuarantinedMailManager()

    class Meta:
        proxy = True
        verbose_name = "quarantined mail"
        verbose_name_plural = "quarantine"


class SeenUid(models.Model):
    """A POP3 message taken in already, by its UIDL: POP3 has no flags to set."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="seen_uids")
    uid = models.CharField(max_length=100)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uid"], name="seen_uid_unique"),
        ]

    def __str__(self):
        return f"{self.mailbox}: {self.uid}"


class OutgoingMail(models.Model):
    """One mail the helpdesk sends, kept until it went and afterwards as the record of it.

    Every mail goes through here (mailgateway.outbox): replies and forwards, the
    acknowledgement, approval requests, agents' notifications and, when EMAIL_BACKEND is
    the outbox, Django's own mail (portal links, password resets). `key` makes enqueueing
    idempotent: the same mail asked for twice is one row, so it is sent once."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outgoing_mails",
        help_text="The request's message this mail carries, if any.",
    )
    from_address = models.CharField(max_length=500)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Files of a mail not carried by a message: [filename, base64 content, content type].
    attachments = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outgoing mail"
        verbose_name_plural = "outgoing mail"
        indexes = [
            # partial: the delivery step only ever looks for pending mail that is due
            models.Index(
                fields=["next_attempt_at"],
                name="outgoingmail_due",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"
