from collections.abc import Collection

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from .config import Stage
from .ticket import Ticket


class ApprovalQuerySet(models.QuerySet):
    def for_customer(self):
        """The approvals the contact decides (the portal's), not the agents'."""
        return self.filter(asks=Approval.Asks.CONTACT)


class Approval(models.Model):
    """A yes or no to something (a quote) before the request may progress into `stage`:
    the contact's, or named agents' (an agent, or any member of a team). Only
    tickets.workflow creates and decides them."""

    class Asks(models.TextChoices):
        CONTACT = "contact", "The contact"
        AGENTS = "agents", "Agents"

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
    asks = models.CharField(max_length=10, choices=Asks.choices, default=Asks.CONTACT)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent who decides (with `asks` agents).",
    )
    approver_team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Any member decides (with `asks` agents).",
    )

    objects = ApprovalQuerySet.as_manager()

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

    @property
    def asked(self) -> str:
        """Who is asked, in words."""
        if self.asks == self.Asks.CONTACT:
            return "the customer"
        names = (
            [self.approver.get_full_name() or self.approver.get_username()] if self.approver else []
        )
        names += [f"team {self.approver_team.name}"] if self.approver_team else []
        return " or ".join(names) or "any agent"

    def may_decide(self, user, *, teams: Collection[int] | None = None) -> bool:
        """Whether this agent decides it: the approver, a member of the team, or — when
        both are gone since — any agent who sees the request. `teams`, the ids of the
        user's teams when already read (a page of many approvals reads them once)."""
        if self.asks != self.Asks.AGENTS or user is None:
            return False
        if self.approver_id is None and self.approver_team_id is None:
            return True
        if self.approver_id == user.pk:
            return True
        if self.approver_team_id is None:
            return False
        if teams is not None:
            return self.approver_team_id in teams
        return user.groups.filter(pk=self.approver_team_id).exists()
