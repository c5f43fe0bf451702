from django.conf import settings
from django.db import models
from django.db.models import Q

from .ticket import Ticket


class DomainEvent(models.Model):
    """What happened to a request, for the other apps to react to (tickets.events).

    Written in the workflow's transaction, so an event exists exactly when its change does;
    dispatched to the subscribers once that transaction commits. `handled` names the
    subscribers that are done with it, each recorded in the same transaction as the
    subscriber's own writes: a retried dispatch runs only the ones that are not."""

    name = models.CharField(max_length=40)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="domain_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    handled = models.JSONField(default=list, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # partial: the re-dispatch step only ever looks at events not yet dispatched
            models.Index(
                fields=["at"], name="domainevent_undispatched", condition=Q(dispatched_at=None)
            ),
            models.Index(fields=["ticket", "at"], name="domainevent_ticket_at"),
        ]

    def __str__(self):
        return f"{self.name} #{self.ticket_id}"
