"""SMS in and out: every SMS the helpdesk sends (OutgoingSms, the outbox's rows) and every
one it receives (IncomingSms, kept whole, processed or quarantined)."""

from django.db import models
from django.db.models import Q

from tickets.models import Message, Ticket


class OutgoingSms(models.Model):
    """One SMS of a request's timeline on its way to the phone, and afterwards the record
    of how it went. Only sms.outbox writes these; one per message, so it goes once."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent (the provider has it)"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNDELIVERED = "undelivered", "Not delivered"

    message = models.OneToOneField(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # the record outlives a deleted request
        related_name="outgoing_sms",
    )
    to = models.CharField(max_length=16, help_text="E.164")
    body = models.TextField()
    sender = models.CharField(max_length=32, blank=True, help_text="Our number or sender id.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # indexed: a status callback finds its SMS by the provider's id
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True, help_text="The latest status.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outgoing SMS"
        verbose_name_plural = "outgoing SMS"
        indexes = [
            # partial: the delivery step only ever looks for queued SMS that are due
            models.Index(
                fields=["next_attempt_at"], name="outgoingsms_due", condition=Q(status="queued")
            ),
        ]

    def __str__(self):
        return f"SMS to {self.to}"


class IncomingSms(models.Model):
    """One SMS the provider handed us, stored before anything else (nothing received is
    lost): threaded into a request, or quarantined with the reason until it can be."""

    class State(models.TextChoices):
        PROCESSED = "processed", "Processed"
        QUARANTINED = "quarantined", "Quarantined"

    payload = models.JSONField(help_text="What the provider sent, whole.")
    from_number = models.CharField(max_length=40, help_text="As the provider wrote it.")
    to_number = models.CharField(max_length=40, blank=True)
    body = models.TextField(blank=True)
    # unique: a webhook the provider retries is the same SMS, taken in once
    provider_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices)
    reason = models.TextField(blank=True, help_text="Why it is quarantined.")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="incoming_sms"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="incoming_sms"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "incoming SMS"
        verbose_name_plural = "incoming SMS"

    def __str__(self):
        return f"SMS from {self.from_number}"
