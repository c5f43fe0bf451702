from datetime import time
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from escalation import clocks
from tickets.models import Priority, ReplyTemplate, Ticket


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/Oslo.")


class BusinessCalendar(models.Model):
    """Opening hours and holidays of a queue. Every clock of a request in a queue with a
    calendar counts only the time the calendar is open."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/Oslo",
        validators=[validate_time_zone],
        help_text="The opening hours and holidays are in this time zone.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "business-hours calendar"

    def __str__(self):
        return self.name

    def as_calendar(self) -> clocks.Calendar:
        """The pure-arithmetic form that escalation.clocks counts with."""
        # Through .all(), so a calendar loaded with its hours and holidays prefetched (the
        # mail gateway's, once per poll) is built without a query.
        holidays = list(self.holidays.all())
        return clocks.Calendar.build(
            self.time_zone,
            [(hours.weekday, hours.opens, hours.closes) for hours in self.opening_hours.all()],
            holidays=[h.date for h in holidays if not h.every_year],
            yearly_holidays=[(h.date.month, h.date.day) for h in holidays if h.every_year],
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means open until midnight.")

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes=time(0)),
                name="opening_hours_close_after_open",
                violation_error_message="Closing time must be after opening time "
                "(00:00 means midnight).",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    every_year = models.BooleanField(
        default=False, help_text="Closed on this day and month every year (e.g. 25 December)."
    )

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_date"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class EscalationLevel(models.Model):
    """One step of a priority's escalation chain (SuperOffice's ticket_alert).

    A request starts before the chain. When `minutes` have passed since it reached the
    previous level (for the first level: since its chain started, at creation or at its
    last priority change), it escalates to this level: delegation, then the action, then
    the hook, each once. The clock counts business minutes when the queue has a calendar.
    """

    class Action(models.TextChoices):
        NONE = "", "No action (delegation or hook only)"
        NOTIFY_OWNER = "notify_owner", "Notify the owner"
        NOTIFY_TEAM = "notify_team", "Notify the team"
        NOTIFY_ADDRESS = "notify_address", "Notify an address"
        MARK_UNREAD = "mark_unread", "Mark unread for the owner"
        RAISE_PRIORITY = "raise_priority", "Raise the priority"

    priority = models.ForeignKey(
        Priority, on_delete=models.CASCADE, related_name="escalation_levels"
    )
    alert_level = models.PositiveSmallIntegerField(
        help_text="Strictly ascending within the priority: the chain runs in this order."
    )
    minutes = models.PositiveIntegerField(
        help_text="Minutes until this level: counted from the previous level (or, for the "
        "first, from the start of the chain)."
    )
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    notify_address = models.EmailField(blank=True, help_text="For “Notify an address”.")
    raise_to = models.ForeignKey(
        Priority,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For “Raise the priority”: must rank above this priority. The new "
        "priority's chain starts over.",
    )
    delegate_to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="delegate to agent",
    )
    delegate_to_team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="delegate to team",
    )
    template = models.ForeignKey(
        ReplyTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"purpose": ReplyTemplate.Purpose.NOTIFICATION},
        help_text="The notification's text; empty: a standard text.",
    )
    hook_name = models.CharField(
        max_length=100, blank=True, help_text="A hook registered in code (escalation.hooks)."
    )
    webhook_url = models.URLField(
        blank=True, help_text="Receives a signed JSON POST of the request."
    )

    class Meta:
        ordering = ["priority__rank", "alert_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "alert_level"],
                name="escalation_level_unique_in_priority",
                violation_error_message="This priority already has a level with this alert "
                "level; alert levels must be strictly ascending.",
            ),
            models.CheckConstraint(
                condition=Q(alert_level__gte=1),
                name="escalation_alert_level_positive",
                violation_error_message="Alert levels start at 1.",
            ),
            models.CheckConstraint(
                condition=~Q(action="notify_address") | ~Q(notify_address=""),
                name="escalation_notify_address_given",
                violation_error_message="Say which address to notify.",
            ),
            models.CheckConstraint(
                condition=~Q(action="raise_priority") | Q(raise_to__isnull=False),
                name="escalation_raise_to_given",
                violation_error_message="Say which priority to raise to.",
            ),
        ]

    def __str__(self):
        return f"{self.priority} level {self.alert_level}"

    def clean(self):
        from escalation import hooks

        errors = {}
        if self.action == self.Action.NOTIFY_ADDRESS and not self.notify_address:
            errors["notify_address"] = "Say which address to notify."
        if self.action == self.Action.RAISE_PRIORITY:
            if self.raise_to is None:
                errors["raise_to"] = "Say which priority to raise to."
            elif self.priority_id and self.raise_to.rank <= self.priority.rank:
                errors["raise_to"] = f"“{self.raise_to}” does not rank above “{self.priority}”."
        if self.hook_name and self.hook_name not in hooks.registered():
            errors["hook_name"] = f"No hook named “{self.hook_name}” is registered."
        if errors:
            raise ValidationError(errors)

    def describe(self) -> str:
        """What this level does, for the request's history."""
        parts = [self.get_action_display()] if self.action else []
        if self.action == self.Action.NOTIFY_ADDRESS:
            parts = [f"Notify {self.notify_address}"]
        if self.action == self.Action.RAISE_PRIORITY and self.raise_to:
            parts = [f"Raise the priority to {self.raise_to}"]
        if self.delegate_to_user_id or self.delegate_to_team_id:
            parts.append("delegate")
        if self.hook_name or self.webhook_url:
            parts.append("run its hook")
        return f"Level {self.alert_level}: " + (", ".join(parts) or "no action")


class Notification(models.Model):
    """Something an agent should know about a request: shown in the desk until seen, and
    emailed. A notification to an address (escalation) has no recipient and is only sent."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", "Escalation"
        ALERT = "alert", "Still new"
        OVERDUE = "overdue", "Deadline passed"
        ASSIGNMENT = "assignment", "Assigned to you"
        QUESTION = "question", "Question from a colleague"
        CUSTOMER_REPLY = "customer_reply", "Customer replied"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    address = models.EmailField(blank=True, help_text="For a notification to an address.")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    created_at = models.DateTimeField()
    seen_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was emailed (claimed for sending)."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The navbar badge: one count of an agent's unseen notifications on every page.
            models.Index(
                fields=["recipient"],
                condition=Q(seen_at__isnull=True),
                name="notification_unseen",
            ),
            # The agent's notification list, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(address=""),
                name="notification_has_a_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.ticket.number}"

    @property
    def subject(self) -> str:
        return f"[{self.ticket.number}] {self.get_kind_display()}: {self.ticket.subject}"


class HookDelivery(models.Model):
    """One run of an escalation level's hook: a registered callable or a webhook POST.
    Written with the escalation, then delivered (and retried) by a Celery task."""

    class Kind(models.TextChoices):
        CALLABLE = "callable", "Registered hook"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="hook_deliveries")
    level = models.ForeignKey(
        EscalationLevel, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="The hook's name or the webhook URL.")
    payload = models.JSONField(help_text="Sent as it is on every attempt.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A worker claims a delivery until this time, so a duplicate task skips it and a
    # crashed worker's claim runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "hook deliveries"
        indexes = [
            # The admin's list filtered by state, newest first.
            models.Index(fields=["state", "-created_at"], name="hookdelivery_state"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.target} for {self.ticket.number}"
