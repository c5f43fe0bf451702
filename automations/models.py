"""Automation rules, agents' macros, and what they did.

A rule answers a trigger (a domain event of a request, or the passing of time) when its
conditions hold, with its ordered actions; a macro is the same actions, run by an agent.
Conditions and actions point at the rows they name (a queue, a priority, a template...)
by foreign keys that become empty when the row is deleted: such a rule is broken, shown
so in the admin and skipped, never guessed at.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import models
from django.db.models import Q

from tickets import events
from tickets.models import (
    Category,
    Company,
    CustomField,
    DomainEvent,
    Priority,
    Queue,
    ReplyTemplate,
    Stage,
    Status,
    Tag,
    Ticket,
)


class Trigger(models.TextChoices):
    CREATED = events.CREATED, "New request"
    UPDATED = events.UPDATED, "Update of its fields"
    PROGRESSED = events.PROGRESSED, "Stage changed (progress)"
    REGRESSED = events.REGRESSED, "Regress"
    CLOSED = events.CLOSED, "Close"
    NOTE_ADDED = events.NOTE_ADDED, "New note"
    NOTE_UPDATED = events.NOTE_UPDATED, "Note updated"
    APPROVAL_REQUESTED = events.APPROVAL_REQUESTED, "Approval asked on stage change"
    OWNER_CHANGED = events.OWNER_CHANGED, "Owner changed"
    MESSAGE_RECEIVED = events.MESSAGE_RECEIVED, "Inbound message (after the first)"
    TIME = "time", "Time-based"


class TimeBasis(models.TextChoices):
    IDLE = "idle", "Unchanged for N hours"
    IN_STAGE = "in_stage", "In its current stage for N hours"
    BEFORE_DEADLINE = "before_deadline", "N hours before the completion deadline"
    AFTER_DEADLINE = "after_deadline", "N hours past the completion deadline"


ACTIVE_TRIGGERS = "automations:active-triggers"


def active_triggers() -> frozenset[str]:
    """The triggers some active rule answers, from the cache (shared through Redis in
    production): the domain events of the others are not even stored for the rules, so a
    desk without rules pays nothing for them. Forgotten whenever a rule is saved."""
    triggers = cache.get(ACTIVE_TRIGGERS)
    if triggers is None:
        active = Rule.objects.filter(is_active=True).order_by()
        triggers = frozenset(active.values_list("trigger", flat=True).distinct())
        cache.set(ACTIVE_TRIGGERS, triggers, timeout=300)
    return triggers


def forget_active_triggers() -> None:
    cache.delete(ACTIVE_TRIGGERS)


class RuleQuerySet(models.QuerySet):
    def update(self, **kwargs):
        forget_active_triggers()
        return super().update(**kwargs)

    def delete(self):
        forget_active_triggers()
        return super().delete()


class Rule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(
        "active",
        default=False,
        help_text="Try it first: the admin's “dry run” shows which open requests it matches.",
    )
    order = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    time_basis = models.CharField(
        max_length=20, choices=TimeBasis.choices, blank=True, help_text="For time-based rules."
    )
    hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="The N of a time-based rule, in hours."
    )
    match_all = models.BooleanField(
        "all conditions",
        default=True,
        help_text="Run when all conditions hold; unticked, when any of them does.",
    )
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger="time", time_basis__gt="", hours__isnull=False)
                | (~Q(trigger="time") & Q(time_basis="")),
                name="rule_time_basis_only_for_time_trigger",
                violation_error_message=(
                    "A time-based rule needs its basis and hours; other rules have neither."
                ),
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        forget_active_triggers()

    def delete(self, *args, **kwargs):
        forget_active_triggers()
        return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        """How the history names the rule's changes."""
        return f"rule “{self.name}”"

    @property
    def condition_list(self) -> list["Condition"]:
        """Its conditions, as engine.with_parts loaded them (else from the database)."""
        return _loaded(self, "loaded_conditions", self.conditions)

    @property
    def action_list(self) -> list["Action"]:
        return _loaded(self, "loaded_actions", self.actions)


class Macro(models.Model):
    """A bundle of actions an agent runs on one request or many (the list's bulk action)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField("active", default=True)
    queues = models.ManyToManyField(
        Queue, blank=True, related_name="+", help_text="Offered on these queues; none: on all."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        return f"macro “{self.name}”"

    @property
    def action_list(self) -> list["Action"]:
        return _loaded(self, "loaded_actions", self.actions)


# The rows a condition or action may name (the foreign keys of Target, in this order).
TARGETS = (
    "queue", "stage", "status", "priority", "category", "tag", "team", "user", "company",
    "custom_field",
)  # fmt: skip


def _loaded(row, attr: str, manager) -> list:
    """What engine.with_parts / rules_for loaded into `attr`, else from the database."""
    loaded = row.__dict__.get(attr)
    return loaded if loaded is not None else list(manager.all())


class Target(models.Model):
    """The rows a condition or action may name, each emptied when its row is deleted."""

    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.ForeignKey(
        Status, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.ForeignKey(
        Priority, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The owner, an approver or an activity's assignee.",
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    custom_field = models.ForeignKey(
        CustomField, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    value = models.CharField(
        max_length=500,
        blank=True,
        help_text="Text to compare or set; for “one of”, comma-separated.",
    )

    class Meta:
        abstract = True

    @property
    def target(self):
        """The row it names, for the field or action at hand; None when there is none."""
        for name in TARGETS:
            if getattr(self, f"{name}_id") is not None:
                return getattr(self, name)
        return None


class Condition(Target):
    class Field(models.TextChoices):
        QUEUE = "queue", "Queue"
        STAGE = "stage", "Stage"
        STATUS = "status", "Status"
        BASE_STATUS = "base_status", "Base status (open, pending, closed…)"
        PRIORITY = "priority", "Priority"
        CATEGORY = "category", "Category (and its subcategories)"
        TAGS = "tags", "Tags"
        CHANNEL = "channel", "Channel"
        CONTACT = "contact", "Contact's email"
        COMPANY = "company", "Company"
        OWNER = "owner", "Owner"
        TEAM = "team", "Team"
        CUSTOM_FIELD = "custom_field", "Custom field"
        SUBJECT = "subject", "Subject"
        BODY = "body", "Message text"

    class Operator(models.TextChoices):
        IS = "is", "is"
        IS_NOT = "is_not", "is not"
        ONE_OF = "one_of", "is one of"
        CONTAINS = "contains", "contains"
        NOT_CONTAINS = "not_contains", "does not contain"
        IS_EMPTY = "is_empty", "is empty"
        IS_SET = "is_set", "is set"
        CHANGED = "changed", "changed"
        CHANGED_FROM = "changed_from", "changed from"
        CHANGED_TO = "changed_to", "changed to"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(max_length=20, choices=Field.choices)
    operator = models.CharField(max_length=20, choices=Operator.choices)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        field = self.get_field_display().split(" (")[0].lower()
        if self.field == self.Field.CUSTOM_FIELD and self.custom_field_id:
            field = self.custom_field.key
        target = self.target if self.field != self.Field.CUSTOM_FIELD else None
        wanted = f"“{target}”" if target is not None else f"“{self.value}”" if self.value else ""
        return f"{field} {self.get_operator_display()} {wanted}".strip()


class Action(Target):
    class Kind(models.TextChoices):
        SET_OWNER = "set_owner", "Set the owner"
        SET_TEAM = "set_team", "Set the team"
        SET_PRIORITY = "set_priority", "Set the priority"
        SET_CATEGORY = "set_category", "Set the category"
        SET_STATUS = "set_status", "Set the status"
        ADD_TAG = "add_tag", "Add a tag"
        REMOVE_TAG = "remove_tag", "Remove a tag"
        SET_CUSTOM_FIELD = "set_custom_field", "Set a custom field"
        CLOSE_RESOLVED = "close_resolved", "Close as resolved"
        CLOSE_UNRESOLVED = "close_unresolved", "Close as unresolved"
        SEND_EMAIL = "send_email", "Send an email from a template"
        ADD_NOTE = "add_note", "Add an internal note"
        SCHEDULE_ACTIVITY = "schedule_activity", "Schedule an activity"
        REQUEST_APPROVAL = (
            "request_approval",
            "Ask for approval (the user, the team, else the contact)",
        )
        WEBHOOK = "webhook", "Call a webhook"
        PROVISION = "provision", "Call a provisioning endpoint"

    class Recipient(models.TextChoices):
        CONTACT = "contact", "The contact"
        OWNER = "owner", "The owner"
        TEAM = "team", "The team's members"
        ADDRESS = "address", "The address in “value”"

    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    macro = models.ForeignKey(
        Macro, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    template = models.ForeignKey(
        ReplyTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.CharField(max_length=10, choices=Recipient.choices, blank=True)
    hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="An activity's due time, in business hours."
    )
    url = models.CharField(max_length=500, blank=True, help_text="For webhooks and provisioning.")
    secret = models.CharField(
        max_length=200, blank=True, help_text="The webhook's signing key (HMAC-SHA256)."
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rule__isnull=False, macro__isnull=True)
                | Q(rule__isnull=True, macro__isnull=False),
                name="action_of_a_rule_or_a_macro",
            )
        ]

    def __str__(self):
        return self.get_kind_display()


class RuleRun(models.Model):
    """One rule's answer to one trigger on one request: the per-rule log (admin) and the
    source of the line the request's timeline shows."""

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        BROKEN = "broken", "Skipped: broken"
        CHAIN_LIMIT = "chain_limit", "Skipped: chain limit"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    domain_event = models.ForeignKey(
        DomainEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    because = models.TextField(blank=True, help_text="The trigger and conditions that held.")
    changes = models.JSONField(default=list, blank=True, help_text="What each action did.")
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # the rule's log in the admin, newest first
            models.Index(fields=["rule", "-at"], name="rulerun_rule_at"),
            models.Index(fields=["ticket", "-at"], name="rulerun_ticket_at"),
        ]

    def __str__(self):
        return f"{self.rule} on {self.ticket_id}: {self.outcome}"


class TimerMark(models.Model):
    """A time-based rule looked at this request for this occasion (the moment its hours
    count from), matched or not: each occasion is judged once, and the sweep's query
    leaves marked requests out, so those that never match do not crowd out the rest."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    occasion = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "occasion"], name="timermark_once_per_occasion"
            )
        ]

    def __str__(self):
        return f"{self.rule_id}/{self.ticket_id}@{self.occasion:%Y-%m-%d %H:%M}"
