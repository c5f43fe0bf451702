"""Process tickets: a defined sequence of steps a request follows, each done by an agent,
a team or the customer, its answers written on the request as an article.

Only processes.runs starts runs and moves them on; the admin defines the processes."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets.models import Contact, Message, Queue, Ticket

FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "yes_no")
FIELD_KEYS = {"name", "label", "type", "required", "choices"}


def validate_fields(fields) -> None:
    """A step's `fields`: a list of {name, label, type, required, choices}, names unique
    identifiers, choices (a list of values or [value, label] pairs) only and always for
    a choice."""
    if not isinstance(fields, list):
        raise ValidationError('Fields must be a list of objects, e.g. [{"name": "model"}].')
    errors, names = [], set()
    for number, spec in enumerate(fields, start=1):
        where = f"Field {number}"
        if not isinstance(spec, dict):
            errors.append(f"{where} must be an object with a name, a label and a type.")
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            errors.append(f"{where} needs a name of letters, digits and underscores.")
        elif name in names:
            errors.append(f"{where}: the name “{name}” is used twice.")
        else:
            names.add(name)
            where = f"Field “{name}”"
        if unknown := sorted(set(spec) - FIELD_KEYS):
            errors.append(f"{where}: unknown keys {', '.join(unknown)}.")
        if spec.get("type", "text") not in FIELD_TYPES:
            errors.append(f"{where}: the type must be one of {', '.join(FIELD_TYPES)}.")
        if not isinstance(spec.get("label", ""), str):
            errors.append(f"{where}: the label must be text.")
        if not isinstance(spec.get("required", False), bool):
            errors.append(f"{where}: required must be true or false.")
        choices = spec.get("choices")
        if spec.get("type") == "choice":
            if (
                not choices
                or not isinstance(choices, list)
                or not all(
                    isinstance(c, str) or (isinstance(c, list) and len(c) == 2) for c in choices
                )
            ):
                errors.append(
                    f"{where}: a choice needs choices, a list of values or [value, label] pairs."
                )
        elif choices is not None:
            errors.append(f"{where}: only a choice field has choices.")
    if errors:
        raise ValidationError(errors)


def validate_next_if(rule) -> None:
    """A step's branch: {"field": ..., "equals": ..., "go_to_position": n}, or empty."""
    if rule in (None, {}):
        return
    if not isinstance(rule, dict) or set(rule) != {"field", "equals", "go_to_position"}:
        raise ValidationError(
            'A branch is {"field": "name", "equals": "value", "go_to_position": 3}.'
        )
    position = rule["go_to_position"]
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise ValidationError("The branch's go_to_position must be a step's position (1, 2…).")


class Process(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The queue the process's requests go to.",
    )
    is_active = models.BooleanField(default=True)
    available_on_portal = models.BooleanField(
        default=False, help_text="Customers may start it on the portal."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "processes"

    def __str__(self):
        return self.name


class ProcessStep(models.Model):
    class Actor(models.TextChoices):
        AGENT = "agent", "An agent"
        TEAM = "team", "A team"
        CUSTOMER = "customer", "The customer"

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    actor = models.CharField(max_length=10, choices=Actor.choices, default=Actor.AGENT)
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="With a team as the actor: its members do the step.",
    )
    fields = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_fields],
        help_text='A list of {"name", "label", "type": text|textarea|number|date|choice|'
        'yes_no, "required", "choices"}.',
    )
    needs_approval = models.BooleanField(
        default=False, help_text="An agent approves the answers before the next step."
    )
    next_if = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_next_if],
        help_text='Branch: {"field": "name", "equals": "value", "go_to_position": 3}; '
        "otherwise the next position follows.",
    )

    class Meta:
        ordering = ["process", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["process", "position"], name="processstep_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(actor="team", team__isnull=False)
                | (~Q(actor="team") & Q(team__isnull=True)),
                name="processstep_team_iff_team_actor",
            ),
        ]

    def __str__(self):
        return f"Step {self.position} — {self.name}"

    def clean(self):
        if self.actor == self.Actor.TEAM and self.team_id is None:
            raise ValidationError({"team": "Pick the team that does this step."})
        if self.actor != self.Actor.TEAM and self.team_id is not None:
            raise ValidationError({"team": "Only a team's step has a team."})
        if self.next_if and isinstance(self.fields, list):
            names = {spec.get("name") for spec in self.fields if isinstance(spec, dict)}
            if isinstance(self.next_if, dict) and self.next_if.get("field") not in names:
                raise ValidationError({"next_if": "The branch must test a field of this step."})

    def field_names(self) -> list[str]:
        return [spec["name"] for spec in self.fields]


class ProcessRun(models.Model):
    """One request following a process: where it is now."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        FINISHED = "finished", "Finished"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="process_run")
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="runs")
    current_step = models.ForeignKey(
        ProcessStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(state="finished", current_step__isnull=True, finished_at__isnull=False)
                | (~Q(state="finished") & Q(current_step__isnull=False, finished_at__isnull=True)),
                name="processrun_finished_iff_no_step",
            ),
        ]

    def __str__(self):
        return f"{self.process} on {self.ticket.number}"


class StepSubmission(models.Model):
    """A step's answers, as given; the article they were written as on the request."""

    run = models.ForeignKey(ProcessRun, on_delete=models.CASCADE, related_name="submissions")
    step = models.ForeignKey(ProcessStep, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SET_NULL: the latest note may be deleted by its author; the answers stay here.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # An approver who refuses the answers sends the step back to its actor with a reason;
    # the answers stay here, the actor submits the step again.
    sent_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_back_at = models.DateTimeField(null=True, blank=True)
    sent_back_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]

    def __str__(self):
        return f"{self.step} on {self.run.ticket.number}"
