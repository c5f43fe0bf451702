from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.urls import reverse
from django.utils import timezone
from mptt.models import TreeForeignKey

from .config import Category, CustomField, Level, Priority, Queue, Stage, Status, Tag
from .people import Contact


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Portal"
    INTERNAL = "internal", "Internal"
    SMS = "sms", "SMS"
    API = "api", "API"


class TimeCounter(models.TextChoices):
    """Which of a request's three time counters runs now (SuperOffice's time_counter)."""

    NONE = "", "None (not open)"
    QUEUE = "queue", "In the queue"
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External"


class TimeSpent(NamedTuple):
    queue: timedelta
    internal: timedelta
    external: timedelta

    @property
    def total(self) -> timedelta:
        return self.queue + self.internal + self.external


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(base_status__in=[Status.Base.ACTIVE, Status.Base.POSTPONED])

    def of_company(self, company):
        return self.filter(contact__company=company)

    def with_custom_value(self, custom: CustomField, value):
        """Requests whose `custom` field holds `value` (a form's cleaned value): a text
        that contains it, whatever the case; a number, date or choice equal to it, as
        PropertiesForm stores them."""
        stored = KeyTransform(custom.key, "custom_fields")
        alias = f"custom_{custom.pk}"
        match custom.kind:
            case CustomField.Kind.TEXT:
                text = KeyTextTransform(custom.key, "custom_fields")
                return self.alias(**{alias: text}).filter(**{f"{alias}__icontains": value})
            case CustomField.Kind.NUMBER:
                value = int(value) if value == int(value) else float(value)
            case CustomField.Kind.DATE:
                value = value.isoformat()
        return self.alias(**{alias: stored}).filter(**{alias: value})

    # The sweep's selections. Each matches one partial index (Meta.indexes), so its cost
    # follows the number of requests that are due, not the number that exist.

    def due_for_escalation(self, now: datetime):
        return self.filter(
            base_status=Status.Base.ACTIVE,
            next_escalation_at__isnull=False,
            next_escalation_at__lte=now,
        )

    def due_for_alert(self, now: datetime):
        return self.filter(
            base_status=Status.Base.ACTIVE,
            alert_at__isnull=False,
            alerted_at__isnull=True,
            alert_at__lte=now,
        )

    def due_for_deadline(self, now: datetime):
        """Active requests whose deadline has passed and that are not flagged yet."""
        return self.filter(
            base_status=Status.Base.ACTIVE,
            deadline__isnull=False,
            overdue_flagged_at__isnull=True,
            deadline__lte=now,
        )

    def due_to_wake(self, now: datetime):
        return self.filter(
            base_status=Status.Base.POSTPONED,
            postponed_until__isnull=False,
            postponed_until__lte=now,
        )

    def overdue(self, now: datetime):
        """Running past their deadline. Postponed requests' clocks stand still, so they
        are not overdue while they wait."""
        return self.filter(base_status=Status.Base.ACTIVE, deadline__lt=now)


# What a report may filter requests by (besides tags and the company): kept in the
# indexes the reports count through, so their counts need not read the table.
REPORTED_BY = ("queue", "priority", "category", "channel")


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

    # Clocks (tickets.workflow plans them, escalation.engine acts on them). While the
    # request is not active they stand still: clocks_paused_at says since when, and
    # clocks_paused_seconds adds up the (business) time they stood still before.
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the New-stage alert went off."
    )
    overdue_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the passed deadline was flagged."
    )
    clocks_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    clocks_paused_seconds = models.PositiveIntegerField(default=0, editable=False)

    # Time spent: three counters and the one running now since when (set by the workflow
    # whenever the status, owner or a forward changes).
    queue_seconds = models.PositiveIntegerField(default=0, editable=False)
    internal_seconds = models.PositiveIntegerField(default=0, editable=False)
    external_seconds = models.PositiveIntegerField(default=0, editable=False)
    time_counter = models.CharField(
        max_length=10, choices=TimeCounter.choices, blank=True, default="", editable=False
    )
    time_counter_since = models.DateTimeField(null=True, blank=True, editable=False)
    awaiting_external = models.BooleanField(
        default=False,
        editable=False,
        help_text="Forwarded to an outside party whose answer has not come back yet.",
    )

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
            # Newest first, the default order of every list. With the columns the reports
            # filter by, counting a year of requests created reads the index alone
            # (170 ms at a million instead of 300–450 ms through the table).
            models.Index(
                fields=["-created_at"],
                include=REPORTED_BY,
                name="ticket_created",
            ),
            # Lists sorted by last change, all requests and open ones: without them a
            # million requests were sorted for each page (0.6 s, open ones 0.25 s).
            models.Index(fields=["updated_at", "id"], name="ticket_updated"),
            models.Index(
                fields=["updated_at", "id"],
                condition=Q(base_status__in=["active", "postponed"]),
                name="ticket_open_updated",
            ),
            # The dashboard's counts and the open-request filters, read from the index
            # alone (the key holds every column they touch).
            models.Index(
                fields=["queue", "status", "priority", "owner", "deadline", "base_status"],
                condition=Q(base_status__in=["active", "postponed"]),
                name="ticket_open_counts",
            ),
            # Open requests by nearest deadline; by latest deadline (empty ones last) is an
            # expression index made on PostgreSQL only (migration 0007): SQLite cannot
            # index NULLS LAST.
            models.Index(
                fields=["deadline", "id"],
                condition=Q(base_status__in=["active", "postponed"]),
                name="ticket_open_deadline",
            ),
            # The dashboard's closed-per-day chart, and the reports' closed requests.
            models.Index(
                fields=["closed_at", "queue"],
                condition=Q(closed_at__isnull=False),
                include=REPORTED_BY[1:],
                name="ticket_closed_at",
            ),
            # The sweep (escalation.engine), one partial index per due time: each holds
            # only the rows its query can select, so finding the due ones is a short range
            # scan whatever the number of requests.
            # TicketQuerySet.due_for_escalation
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(base_status="active", next_escalation_at__isnull=False),
                name="ticket_escalation_due",
            ),
            # TicketQuerySet.due_for_alert
            models.Index(
                fields=["alert_at"],
                condition=Q(base_status="active", alert_at__isnull=False, alerted_at__isnull=True),
                name="ticket_alert_due",
            ),
            # TicketQuerySet.due_for_deadline
            models.Index(
                fields=["deadline"],
                condition=Q(
                    base_status="active", deadline__isnull=False, overdue_flagged_at__isnull=True
                ),
                name="ticket_deadline_due",
            ),
            # TicketQuerySet.due_to_wake
            models.Index(
                fields=["postponed_until"],
                condition=Q(base_status="postponed", postponed_until__isnull=False),
                name="ticket_wake_due",
            ),
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

    @property
    def first_response_time(self) -> timedelta | None:
        """From creation to the first agent reply."""
        return self.replied_at - self.created_at if self.replied_at else None

    @property
    def clocks_paused(self) -> bool:
        return self.clocks_paused_at is not None

    def time_spent(self, now: datetime | None = None) -> TimeSpent:
        """The three counters, the running one counted up to `now` (default: now). While
        the request is open they add up to the time it has been open."""
        seconds = {
            "queue": self.queue_seconds,
            "internal": self.internal_seconds,
            "external": self.external_seconds,
        }
        if self.time_counter and self.time_counter_since:
            running = (now or timezone.now()) - self.time_counter_since
            seconds[self.time_counter] += max(int(running.total_seconds()), 0)
        return TimeSpent(**{name: timedelta(seconds=value) for name, value in seconds.items()})

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
