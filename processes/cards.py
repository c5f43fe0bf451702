"""What the process card shows, for the desk and the portal alike: the steps done with
their answers, where the run is, and the form of the step when it is this person's."""

from django.http import Http404

from processes import runs
from processes.forms import StepForm, readable
from processes.models import ProcessRun, ProcessStep
from tickets.models import Ticket


def run_of(ticket: Ticket) -> ProcessRun | None:
    run = (
        ProcessRun.objects.select_related("process", "current_step__team")
        .filter(ticket=ticket)
        .first()
    )
    if run is not None:
        run.ticket = ticket  # the caller's, read through the access rules
    return run


def get_run(ticket: Ticket) -> ProcessRun:
    run = run_of(ticket)
    if run is None:
        raise Http404("This request follows no process.")
    return run


def card_context(run: ProcessRun, *, user=None, contact=None, form: StepForm | None = None) -> dict:
    """On the portal (`contact`), an agent's answers are not shown: they are internal notes
    on the request, and the card tells only that the step is done (or sent back)."""
    steps = list(run.process.steps.all())
    by_pk = {step.pk: step for step in steps}
    done = []
    for submission in run.submissions.select_related(
        "submitted_by", "submitted_by_contact", "approved_by", "sent_back_by"
    ):
        step = by_pk[submission.step_id]
        readable_here = contact is None or step.actor == ProcessStep.Actor.CUSTOMER
        done.append(
            {
                "submission": submission,
                "step": step,
                "answers": readable(step, submission.answers) if readable_here else [],
                "sent_back_reason": submission.sent_back_reason if readable_here else "",
            }
        )
    current = run.current_step
    mine = current is not None and runs.may_do(current, by=user, contact=contact, run=run)
    running = run.state == ProcessRun.State.RUNNING and run.ticket.is_open
    if running and mine and form is None:
        # A step sent back is done again from the answers it had.
        last = next((row["submission"] for row in reversed(done) if row["step"] == current), None)
        form = StepForm(step=current, initial=last.answers if last else None)
    return {
        "run": run,
        "ticket": run.ticket,
        "done": done,
        "current": current,
        "position": next((i for i, s in enumerate(steps, 1) if s == current), len(steps)),
        "count": len(steps),
        "form": form if running and mine else None,
        "can_approve": run.state == ProcessRun.State.AWAITING_APPROVAL
        and contact is None
        and run.ticket.is_open
        and (current.actor == ProcessStep.Actor.CUSTOMER or mine),
    }
