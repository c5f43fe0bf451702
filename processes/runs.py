"""Process runs: starting a process (its request), doing its steps in order, approving
the steps that must be, finishing. The one home of a run's rules; the request itself
changes only through tickets.workflow (its articles, its history, its domain events).

A step is *done* when it is submitted — or, for a step that needs approval, when an agent
approves it; then the run moves to the next position (or to the branch its `next_if`
names) and the workflow tells PROCESS_STEP_DONE. An approver may instead send the step
back with a reason: it is its actor's to do again.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from processes.forms import StepForm, as_text
from processes.models import Process, ProcessRun, ProcessStep, StepSubmission
from tickets import events, workflow
from tickets.access import can_see_queue, is_agent
from tickets.models import Channel, Contact, Message
from tickets.workflow import WorkflowError


class InvalidAnswers(WorkflowError):
    """A step's answers that its form refuses; `errors` maps each field to its messages."""

    def __init__(self, step: ProcessStep, errors: dict[str, list[str]]):
        self.errors = errors
        labels = {spec["name"]: spec.get("label") or spec["name"] for spec in step.fields}
        said = "; ".join(f"{labels.get(name, name)}: {' '.join(e)}" for name, e in errors.items())
        super().__init__(f"Check the answers of {step}: {said}")


@transaction.atomic
def start_process(
    process: Process,
    *,
    contact: Contact,
    subject: str = "",
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> ProcessRun:
    """Open the process's request for `contact`, its run at the first step. With `by`, an
    agent starts it for the contact (recorded as a phone request: the agent registers
    what the customer asked for); without, the contact starts it on the portal."""
    now = now or timezone.now()
    if not process.is_active:
        raise WorkflowError(f"The process “{process}” is switched off.")
    first = process.steps.order_by("position").first()
    if first is None:
        raise WorkflowError(f"The process “{process}” has no steps yet.")
    if by is None:
        if not process.available_on_portal:
            raise WorkflowError(f"The process “{process}” cannot be started on the portal.")
        channel, by = Channel.PORTAL, contact.user
    elif not is_agent(by):
        raise WorkflowError("Only an agent starts a process for a contact.")
    elif not can_see_queue(by, process.queue_id):
        raise WorkflowError(f"The process “{process}” goes to {process.queue}, not your queue.")
    else:
        channel = Channel.PHONE
    ticket = workflow.create_ticket(
        queue=process.queue,
        subject=subject.strip() or process.name,
        by=by,
        channel=channel,
        contact=contact,
        body=f"Process: {process.name}\n\n{process.description}".strip(),
        now=now,
    )
    return ProcessRun.objects.create(
        ticket=ticket, process=process, current_step=first, started_at=now
    )


def may_do(step: ProcessStep, *, by: AbstractBaseUser | None, contact: Contact | None, run) -> bool:
    """Whether this person does (or approves) `step` of `run`: the request's contact a
    customer's step, an agent who sees the request an agent's, a team's member a team's."""
    return _refusal(step, by=by, contact=contact, run=run) == ""


def _refusal(step: ProcessStep, *, by, contact, run) -> str:
    if step.actor == ProcessStep.Actor.CUSTOMER:
        if contact is None:
            return f"{step} is the customer's to do."
        if contact.pk != run.ticket.contact_id:
            return f"Only the request's contact does {step}."
        return ""
    if contact is not None or by is None or not is_agent(by):
        return f"{step} is an agent's to do."
    if not can_see_queue(by, run.ticket.queue_id):
        return f"{step} is done by the agents of {run.ticket.queue}."
    if step.actor == ProcessStep.Actor.TEAM and not by.groups.filter(pk=step.team_id).exists():
        return f"{step} is the team {step.team}'s to do; you are not a member."
    return ""


@transaction.atomic
def submit_step(
    run: ProcessRun,
    step: ProcessStep,
    answers: dict,
    *,
    by: AbstractBaseUser | None = None,
    contact: Contact | None = None,
    now: datetime | None = None,
) -> StepSubmission:
    """The answers to the run's current step, by its actor: written on the request as an
    article (a customer's as their portal message, an agent's as an internal note), then
    the run moves on — or waits for an agent's approval. Refused, with nothing saved, out
    of order, by the wrong person, or with answers its form refuses (InvalidAnswers)."""
    now = now or timezone.now()
    run = _lock(run)
    current = run.current_step
    if run.state == ProcessRun.State.FINISHED:
        raise WorkflowError(f"The process “{run.process}” is finished already.")
    if step.pk != run.current_step_id:
        raise WorkflowError(f"{step} is not the current step; {current} is.")
    if run.state == ProcessRun.State.AWAITING_APPROVAL:
        raise WorkflowError(f"{step} is submitted and waits for an agent's approval.")
    if refusal := _refusal(step, by=by, contact=contact, run=run):
        raise WorkflowError(refusal)
    _ensure_open(run)
    form = StepForm(answers, step=step)
    if not form.is_valid():
        raise InvalidAnswers(step, {name: list(e) for name, e in form.errors.items()})
    answers = form.answers()
    text = as_text(step, answers)
    if step.actor == ProcessStep.Actor.CUSTOMER:
        # The customer's own words on their request, as the portal's messages are.
        message = workflow.add_message(
            run.ticket,
            by=contact.user,
            contact=contact,
            kind=Message.Kind.PORTAL,
            direction=Message.Direction.INBOUND,
            body_text=text,
            now=now,
        )
    else:
        # An agent's answers are working data (models, costs, who approved), for
        # colleagues: an internal note. The customer sees on the portal's process card
        # that the step is done, not its answers.
        message = workflow.add_note(run.ticket, text=text, by=by, now=now)
    submission = StepSubmission.objects.create(
        run=run,
        step=step,
        answers=answers,
        submitted_by=by if contact is None else contact.user,
        submitted_by_contact=contact,
        message=message,
        submitted_at=now,
    )
    actor = by if contact is None else contact.user
    if step.needs_approval:
        run.state = ProcessRun.State.AWAITING_APPROVAL
        run.save(update_fields=["state"])
        workflow.record_change(
            run.ticket, by=actor, action="process_step_submitted", field="step",
            new=_label(step), now=now,
        )  # fmt: skip
    else:
        _advance(run, step, answers, by=actor, action="process_step_done", now=now)
    return submission


@transaction.atomic
def approve_step(
    run: ProcessRun, *, by: AbstractBaseUser, now: datetime | None = None
) -> StepSubmission:
    """An agent approves the submitted answers of the step that waits: the run moves on.
    The agent must be one who may do the step (its team's member for a team's step)."""
    now = now or timezone.now()
    run = _lock(run)
    step, submission = _awaiting(run, by=by, verb="approve")
    submission.approved_by, submission.approved_at = by, now
    submission.save(update_fields=["approved_by", "approved_at"])
    _advance(run, step, submission.answers, by=by, action="process_step_approved", now=now)
    return submission


@transaction.atomic
def send_back_step(
    run: ProcessRun, *, by: AbstractBaseUser, reason: str, now: datetime | None = None
) -> StepSubmission:
    """An approver refuses the submitted answers of the step that waits and says why: the
    step is its actor's to do again, the answers kept on the submission. The customer hears
    the reason by a reply (their step is theirs to correct on the portal); for an agent's or
    team's step it is an internal note, as their answers were."""
    now = now or timezone.now()
    run = _lock(run)
    step, submission = _awaiting(run, by=by, verb="send back")
    reason = reason.strip()
    if not reason:
        raise WorkflowError(f"Say why {step} is sent back: its actor reads it to correct it.")
    submission.sent_back_by, submission.sent_back_at = by, now
    submission.sent_back_reason = reason
    submission.save(update_fields=["sent_back_by", "sent_back_at", "sent_back_reason"])
    run.state = ProcessRun.State.RUNNING
    run.save(update_fields=["state"])
    text = f"{step} is sent back: {reason}"
    if step.actor == ProcessStep.Actor.CUSTOMER:
        workflow.reply_to_customer(
            run.ticket, by=by, body=f"{text}\n\nPlease correct it on the portal.", now=now
        )
    else:
        workflow.add_note(run.ticket, text=text, by=by, now=now)
    workflow.record_change(
        run.ticket, by=by, action="process_step_sent_back", field="step", new=_label(step),
        now=now,
    )  # fmt: skip
    return submission


def _awaiting(run: ProcessRun, *, by, verb: str) -> tuple[ProcessStep, StepSubmission]:
    """The step that waits for approval and its submission, if `by` may decide on it: an
    agent who sees the request, for a team's step a member of the team."""
    if run.state != ProcessRun.State.AWAITING_APPROVAL:
        raise WorkflowError(f"Nothing of “{run.process}” waits for approval.")
    step = run.current_step
    if by is None or not is_agent(by):
        raise WorkflowError(f"{step} is approved by an agent.")
    if step.actor != ProcessStep.Actor.CUSTOMER and (
        refusal := _refusal(step, by=by, contact=None, run=run)
    ):
        raise WorkflowError(refusal.replace("to do", f"to {verb}"))
    if step.actor == ProcessStep.Actor.CUSTOMER and not can_see_queue(by, run.ticket.queue_id):
        raise WorkflowError(f"{step} is approved by the agents of {run.ticket.queue}.")
    _ensure_open(run)
    return step, run.submissions.filter(step=step).order_by("submitted_at", "pk").last()


def _advance(
    run: ProcessRun, step: ProcessStep, answers: dict, *, by, action: str, now: datetime
) -> None:
    """The step is done: on to the next one (or the branch), or the run is finished."""
    following = next_step(list(run.process.steps.all()), step, answers)
    if following is None:
        run.current_step, run.state, run.finished_at = None, ProcessRun.State.FINISHED, now
        action = "process_finished"
    else:
        run.current_step, run.state = following, ProcessRun.State.RUNNING
    run.save(update_fields=["current_step", "state", "finished_at"])
    workflow.record_change(
        run.ticket,
        by=by,
        action=action,
        field="step",
        new=_label(step),
        tell=events.PROCESS_STEP_DONE,
        payload={"run": run.pk, "step": step.pk, "process": run.process_id},
        now=now,
    )


def next_step(steps: list[ProcessStep], step: ProcessStep, answers: dict) -> ProcessStep | None:
    """The step after `step`: its branch's when the answer tested equals the value, else
    the next position; None after the last."""
    rule = step.next_if or {}
    if rule and _same(answers.get(rule["field"]), rule["equals"]):
        target = next((s for s in steps if s.position == rule["go_to_position"]), None)
        if target is None:
            raise WorkflowError(
                f"{step} goes on to step {rule['go_to_position']}, which “{step.process}” "
                "does not have; an admin must correct the process."
            )
        return target
    return next((s for s in steps if s.position > step.position), None)


def _same(answer, expected) -> bool:
    """An answer equals the branch's value: yes/no as true/false too, numbers by value,
    text without regard to case."""
    if isinstance(expected, bool):
        expected = "yes" if expected else "no"
    try:
        return Decimal(str(answer)) == Decimal(str(expected))
    except InvalidOperation:
        return str(answer).strip().casefold() == str(expected).strip().casefold()


def _label(step: ProcessStep) -> str:
    return f"{step.position} — {step.name}"


def _lock(run: ProcessRun) -> ProcessRun:
    """The run's row lock, so two submissions of one step queue up and the second sees
    the first. Only the run's own row: its step may be empty (an outer join)."""
    return (
        ProcessRun.objects.select_for_update(of=("self",))
        .select_related("ticket", "process", "current_step__team")
        .get(pk=run.pk)
    )


def _ensure_open(run: ProcessRun) -> None:
    if not run.ticket.is_open:
        raise WorkflowError(
            f"{run.ticket.number} is closed; reactivate it before going on with its process."
        )
