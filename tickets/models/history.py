from django.conf import settings
from django.db import models

from .ticket import Ticket


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("History is append-only: events cannot be updated.")

    def delete(self):
        raise TypeError("History is append-only: events cannot be deleted.")


class Event(models.Model):
    """One change of a request. Written by tickets.workflow, never changed afterwards."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=40)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    via = models.CharField(
        max_length=200, blank=True, help_text="The automation rule or macro that made the change."
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="event_ticket_at"),
            # Whether a request was ever alerted, asked of each request a report counts:
            # alerts are a few of the events (52k of 13M at a million requests).
            models.Index(
                fields=["ticket"], condition=models.Q(action="alerted"), name="event_alerted"
            ),
        ]

    def __str__(self):
        if self.field:
            return f"{self.action}: {self.field} {self.old_value!r} → {self.new_value!r}"
        return self.action

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("History is append-only: events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("History is append-only: events cannot be deleted.")
