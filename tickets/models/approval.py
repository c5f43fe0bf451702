from django.conf import settings
from django.db import models

from .config import Stage
from .ticket import Ticket


class Approval(models.Model):
    """The contact's yes or no to something (a quote) before the request may progress into
    `stage`. Only tickets.workflow creates and decides them."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="approvals")
    stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        related_name="approvals",
        help_text="The stage the request may not progress into until approved.",
    )
    text = models.TextField(help_text="What the contact is asked to approve.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved = models.BooleanField(null=True, blank=True, help_text="Empty while pending.")

    class Meta:
        ordering = ["requested_at", "pk"]
        indexes = [
            # progress_ticket's check: the approvals of one request for its next stage.
            models.Index(fields=["ticket", "stage"], name="approval_ticket_stage"),
        ]

    def __str__(self):
        return f"Approval for {self.stage.name} on {self.ticket.number}"

    @property
    def is_pending(self) -> bool:
        return self.decided_at is None
