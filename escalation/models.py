from django.conf import settings
from django.db import models
from django.db.models import Q

from tickets.models import EscalationLevel, Ticket


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
