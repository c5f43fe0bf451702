from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from mptt.models import TreeForeignKey

from .config import Category, Level, Priority, Queue, Stage, Status, Tag
from .people import Contact


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Portal"
    INTERNAL = "internal", "Internal"
    SMS = "sms", "SMS"
    API = "api", "API"


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(base_status__in=[Status.Base.ACTIVE, Status.Base.POSTPONED])

    def of_company(self, company):
        return self.filter(contact__company=company)


class Ticket(models.Model):
    """A request. Its lifecycle fields change only through tickets.workflow."""

    number = models.CharField(max_length=60, unique=True, editable=False)
    subject = models.CharField(max_length=255)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text="Internal requests have none.",
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="tickets")
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="tickets")
    # The built-in status the current one maps onto, kept beside it so lists and sweeps
    # filter on an indexed column instead of joining Status.
    base_status = models.CharField(max_length=10, choices=Status.Base.choices, editable=False)
    category = TreeForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    priority = models.ForeignKey(Priority, on_delete=models.PROTECT, related_name="tickets")
    impact = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_tickets",
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="collaborating_tickets"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True, help_text="The first agent reply.")
    deadline = models.DateTimeField(null=True, blank=True)
    alert_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    is_unread = models.BooleanField(default=True, help_text="Unread for its owner.")
    postponed_until = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(null=True, blank=True, help_text="Asked on closing.")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_tickets"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    related_address = models.TextField(blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Queue lists and the deadline sweep: open requests of a queue by deadline.
            models.Index(
                fields=["queue", "base_status", "deadline"], name="ticket_queue_status_dl"
            ),
            # "My requests": an agent's open requests.
            models.Index(fields=["owner", "base_status"], name="ticket_owner_status"),
            # A contact's requests (customer history widget, portal).
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_created"),
            # Newest first, the default order of every list.
            models.Index(fields=["-created_at"], name="ticket_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(pk=models.F("merged_into")), name="ticket_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(base_status="merged", merged_into__isnull=False)
                | (~Q(base_status="merged") & Q(merged_into__isnull=True)),
                name="ticket_merged_iff_merged_into",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    def get_absolute_url(self):
        return reverse("admin:tickets_ticket_change", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.base_status in (Status.Base.ACTIVE, Status.Base.POSTPONED)

    @property
    def is_read_only(self) -> bool:
        return self.base_status in (Status.Base.DELETED, Status.Base.MERGED)

    def timeline_messages(self):
        """Its own messages and those of requests merged into it, oldest first."""
        from .message import Message

        # The requests are found first (two index lookups), then their messages by the
        # (ticket, created_at) index: an OR across the join to tickets made PostgreSQL scan
        # every message (0.3 s on 500,000 messages).
        tickets = Ticket.objects.filter(Q(pk=self.pk) | Q(merged_into=self)).values("pk")
        return (
            Message.objects.filter(ticket__in=tickets)
            .select_related("author", "author_contact", "ticket")
            .prefetch_related("attachments")
            .order_by("created_at", "pk")
        )
