from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .ticket import Ticket


class ActivityQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state=Activity.State.OPEN)

    def assigned_to(self, user: AbstractBaseUser):
        """The agent's own and their teams' ("My activities")."""
        return self.filter(Q(assignee=user) | Q(team__in=user.groups.values("pk")))

    def open_first(self):
        """The request page's order: what is left to do first, soonest due first."""
        return self.annotate(
            closed_last=models.Case(
                models.When(state=Activity.State.OPEN, then=models.Value(0)),
                default=models.Value(1),
            )
        ).order_by("closed_last", models.F("due_at").asc(nulls_last=True), "created_at", "pk")


class Activity(models.Model):
    """A task on a request (call the customer back, order the part). Scheduled, done and
    cancelled only through tickets.workflow."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(
        max_length=200, blank=True, help_text="The automation rule or macro that scheduled it."
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "activities"
        indexes = [
            # "My activities": an agent's own open ones by due time, and their teams'
            # (ActivityQuerySet.assigned_to ORs the two, each served by its index).
            models.Index(fields=["assignee", "state", "due_at"], name="activity_assignee_due"),
            models.Index(fields=["team", "state", "due_at"], name="activity_team_due"),
            # The request page's panel, and close_ticket's count of open ones.
            models.Index(fields=["ticket", "state"], name="activity_ticket_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True)
                | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="activity_closed_iff_closed_at",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="activity_has_title"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()
