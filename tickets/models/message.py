from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import models
from django.urls import reverse
from django.utils.text import get_valid_filename

from .people import Contact
from .ticket import Ticket


class MessageQuerySet(models.QuerySet):
    def for_customer(self):
        """What the customer may read: public messages that were not exchanged with an
        outside party. (Full-text search states the same in SQL: search._PUBLIC.)"""
        return self.filter(is_public=True, is_external=False)


class Message(models.Model):
    """One entry of a request's conversation (OTRS calls them articles)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        PORTAL = "portal", "Portal message"
        SMS = "sms", "SMS"
        NOTE = "note", "Internal note"
        SYSTEM = "system", "System message"

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"
        INTERNAL = "internal", "Internal"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    is_public = models.BooleanField(default=True, help_text="The customer may see it.")
    is_external = models.BooleanField(
        default=False, help_text="Exchanged with an outside party; never shown to the customer."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    from_address = models.CharField(max_length=320, blank=True)
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitized before it is stored.")
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    raw = models.FileField(
        upload_to="raw/%Y/%m/", blank=True, help_text="Inbound email's source, as received."
    )
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the outbound email left; empty until then."
    )
    send_error = models.TextField(blank=True, help_text="The last failure to send it, if any.")
    time_units = models.PositiveIntegerField(default=0)
    is_pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The timeline of one request.
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            # What agents wrote, by date, for the agents' report (replies and time
            # units): a year's are over a million rows at a million requests, counted
            # from this index alone.
            models.Index(
                fields=["created_at"],
                include=["author", "ticket", "kind", "direction", "is_external", "time_units"],
                condition=models.Q(author__isnull=False),
                name="message_by_agents",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket.number}"

    @property
    def sender_name(self) -> str:
        if self.author:
            return self.author.get_full_name() or self.author.get_username()
        if self.author_contact:
            return str(self.author_contact)
        return self.from_address or "System"


class Attachment(models.Model):
    """A file of a message, kept in Django's storage; the table holds only its name."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text="For inline cid: images.")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename

    def get_absolute_url(self) -> str:
        """Its one download address, for agents and contacts alike (tickets.access decides
        who may open it); the name in it is what a browser saves the file as."""
        return reverse("attachment", args=[self.pk, self.download_name])

    @property
    def download_name(self) -> str:
        """The filename to suggest: no path parts, quotes or leading dots (a hidden file)."""
        try:
            return get_valid_filename(self.filename).lstrip(".") or "attachment"
        except SuspiciousFileOperation:
            return "attachment"
