from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .config import Priority, ReplyTemplate


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
        max_length=100, blank=True, help_text="A hook registered in code (see escalation.hooks)."
    )
    webhook_url = models.URLField(
        blank=True, help_text="Receives a signed JSON POST of the request."
    )

    class Meta:
        db_table = "escalation_escalationlevel"  # where it lived before tickets owned it
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
        errors = {}
        if self.action == self.Action.NOTIFY_ADDRESS and not self.notify_address:
            errors["notify_address"] = "Say which address to notify."
        if self.action == self.Action.RAISE_PRIORITY:
            if self.raise_to is None:
                errors["raise_to"] = "Say which priority to raise to."
            elif self.priority_id and self.raise_to.rank <= self.priority.rank:
                errors["raise_to"] = f"“{self.raise_to}” does not rank above “{self.priority}”."
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
