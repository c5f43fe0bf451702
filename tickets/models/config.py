from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from mptt.models import MPTTModel, TreeForeignKey


class Level(models.TextChoices):
    """Impact and urgency levels of the priority model."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Priority(models.Model):
    name = models.CharField(max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="Higher is more urgent; lists sort by it."
    )
    color = models.CharField(max_length=20, default="secondary", help_text="Bootstrap colour name")

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "priorities"

    def __str__(self):
        return self.name


class PriorityRule(models.Model):
    """One cell of the priority model: impact × urgency → priority."""

    impact = models.CharField(max_length=10, choices=Level.choices)
    urgency = models.CharField(max_length=10, choices=Level.choices)
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="one_priority_per_cell"),
        ]

    def __str__(self):
        return f"{self.get_impact_display()} impact × {self.get_urgency_display()} urgency"

    @classmethod
    def priority_for(cls, impact: str, urgency: str) -> Priority | None:
        """The priority for a cell; an undefined cell falls back to medium × medium."""
        rules = {(r.impact, r.urgency): r.priority for r in cls.objects.select_related("priority")}
        return rules.get((impact, urgency)) or rules.get((Level.MEDIUM, Level.MEDIUM))


class Status(models.Model):
    """A request's lifecycle status: one of five built-in ones, or a custom one mapped
    onto a built-in (e.g. "Waiting for customer" → postponed)."""

    class Base(models.TextChoices):
        ACTIVE = "active", "Active"
        POSTPONED = "postponed", "Postponed"
        CLOSED = "closed", "Closed"
        DELETED = "deleted", "Deleted"
        MERGED = "merged", "Merged"

    name = models.CharField(max_length=50, unique=True)
    base = models.CharField(max_length=10, choices=Base.choices)
    is_builtin = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["base", "name"]
        verbose_name_plural = "statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["base"], condition=models.Q(is_builtin=True), name="one_builtin_per_base"
            ),
        ]

    def __str__(self):
        return self.name if self.name == self.get_base_display() else f"{self.name} ({self.base})"

    @classmethod
    def builtin(cls, base: str) -> "Status":
        # A migration creates the five; get_or_create keeps this true after a test flush.
        status, _ = cls.objects.get_or_create(
            base=base, is_builtin=True, defaults={"name": cls.Base(base).label}
        )
        return status


class Category(MPTTModel):
    """A business classification; the tree's rules give requests their defaults."""

    name = models.CharField(max_length=100)
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="member_categories"
    )
    teams = models.ManyToManyField(Group, blank=True, related_name="member_categories")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_priority = models.ForeignKey(
        Priority, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_name_unique_in_parent"
            ),
            # The database treats every empty parent as different: top-level names need
            # their own constraint.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(parent__isnull=True),
                name="category_top_level_name_unique",
                violation_error_message="A top-level category with this name already exists.",
            ),
        ]

    def __str__(self):
        # Just the name: choice lists render hundreds of these, and the path costs a query.
        return self.name

    @property
    def path(self) -> str:
        """The name with its ancestors, "Hardware › Laptops › Batteries" (one query)."""
        return " › ".join(c.name for c in self.get_ancestors(include_self=True))

    def rule(self, attribute: str):
        """The nearest default set on this category or, failing that, an ancestor."""
        for category in self.get_ancestors(ascending=True, include_self=True):
            value = getattr(category, attribute)
            if value is not None:
                return value
        return None


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Queue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email_address = models.EmailField(blank=True, help_text="Replies go out from this address.")
    numbering_scheme = models.CharField(
        max_length=60,
        default="REQ-{year}-{seq:06}",
        help_text="Fields: {year}, {month}, {seq} (required, e.g. {seq:06}). A new year "
        "starts a new sequence when {year} is part of the scheme.",
    )
    default_priority = models.ForeignKey(
        Priority, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="queues", help_text="Empty means every category."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="member_queues"
    )
    teams = models.ManyToManyField(Group, blank=True, related_name="member_queues")

    # Portal settings: requests contacts open on the portal get these.
    is_open_to_portal = models.BooleanField(default=False)
    portal_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    portal_team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    portal_priority = models.ForeignKey(
        Priority, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    portal_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    portal_tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    signature = models.TextField(blank=True, help_text="Added below agents' replies.")
    calendar = models.ForeignKey(
        "tickets.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        verbose_name="business-hours calendar",
        help_text="With a calendar every clock counts business minutes; without, wall-clock.",
    )
    open_activities_block_close = models.BooleanField(
        default=False,
        help_text="A request in this queue cannot be closed while it has an open activity.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from tickets.numbering import validate_scheme

        try:
            validate_scheme(self.numbering_scheme)
        except ValueError as error:
            raise ValidationError({"numbering_scheme": str(error)}) from error

    def accepts_category(self, category: Category | None) -> bool:
        """A category applies when the queue lists it or one of its ancestors, or lists none."""
        if category is None:
            return True
        allowed = set(self.categories.values_list("pk", flat=True))
        if not allowed:
            return True
        return any(c.pk in allowed for c in category.get_ancestors(include_self=True))

    def stage(self, state: int) -> "Stage | None":
        """The queue's first stage in this state. Read through `stages.all()`, so a queue
        loaded with its stages prefetched (the mail gateway's, once per poll) answers
        without a query; a queue has a handful of stages either way."""
        return next((stage for stage in self.stages.all() if stage.state == state), None)

    def add_system_stages(self) -> None:
        """Give a new queue its New and Closed stages; every queue has exactly these two."""
        for state in (Stage.State.NEW, Stage.State.CLOSED):
            Stage.objects.get_or_create(
                queue=self, state=state, defaults={"name": state.label, "position": 0}
            )


class Stage(models.Model):
    """A step of a queue's workflow. New and Closed are the system stages every queue has."""

    class State(models.IntegerChoices):
        NEW = 0, "New"
        IN_PROGRESS = 1, "In progress"
        CLOSED = 2, "Closed"

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.IN_PROGRESS)
    position = models.PositiveSmallIntegerField(
        default=1, help_text="Order among the in-progress stages."
    )

    class Meta:
        ordering = ["queue", "state", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue"], condition=models.Q(state=0), name="one_new_stage_per_queue"
            ),
            models.UniqueConstraint(
                fields=["queue"], condition=models.Q(state=2), name="one_closed_stage_per_queue"
            ),
            models.UniqueConstraint(fields=["queue", "name"], name="stage_name_unique_in_queue"),
        ]

    def __str__(self):
        return f"{self.queue} › {self.name}"

    @property
    def is_system(self) -> bool:
        return self.state != self.State.IN_PROGRESS


class QueuePriorityTime(models.Model):
    """How long a request of a priority may stay New (alert) and take in all (completion)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="priority_times")
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="+")
    alert_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes a request may stay in the New stage."
    )
    completion_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes from creation to the deadline."
    )

    class Meta:
        ordering = ["queue", "priority__rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "priority"], name="one_time_per_queue_priority"
            ),
        ]

    def __str__(self):
        return f"{self.queue} / {self.priority}"


class ReplyTemplate(models.Model):
    """Named text with placeholders, for replies, acknowledgements and notifications."""

    class Purpose(models.TextChoices):
        REPLY = "reply", "Reply"
        ACKNOWLEDGEMENT = "acknowledgement", "Automatic acknowledgement"
        NOTIFICATION = "notification", "Notification"
        PRINT = "print", "Printed / emailed request"

    PLACEHOLDERS = (
        "{number}, {subject}, {contact_name}, {contact_email}, {company}, {agent_name}, "
        "{queue}, {status}, {portal_link}"
    )

    name = models.CharField(max_length=100)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.REPLY)
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reply_templates",
        help_text="Empty: available in every queue.",
    )
    subject = models.CharField(
        max_length=255, blank=True, help_text=f"Placeholders: {PLACEHOLDERS}"
    )
    body = models.TextField(help_text=f"Placeholders: {PLACEHOLDERS}")

    class Meta:
        ordering = ["purpose", "name"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "name"], name="template_name_unique_in_queue"),
        ]

    def __str__(self):
        return f"{self.name} ({self.queue})" if self.queue else self.name


class CustomField(models.Model):
    """An extra property of requests; values live in Ticket.custom_fields under `key`."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"

    name = models.CharField(max_length=100)
    key = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(blank=True, help_text="For a choice field: one option a line.")
    queues = models.ManyToManyField(
        Queue, blank=True, related_name="custom_fields", help_text="Empty: every queue."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def options(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class NumberCounter(models.Model):
    """The last number handed out for one numbering period (a scheme with its year filled
    in). Only tickets.numbering touches it."""

    key = models.CharField(max_length=100, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.last_value}"
