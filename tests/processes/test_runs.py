"""Process runs: started as requests, steps done in order by their actor, answers checked
and written as articles, approval, branches, the end."""

import pytest

from processes import runs
from processes.models import ProcessRun, ProcessStep, StepSubmission
from tests.factories import ProcessFactory, ProcessStepFactory, QueueFactory, UserFactory
from tests.processes.conftest import HARDWARE, WHO, step
from tickets import events, workflow
from tickets.models import Channel, Event, Message
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch):
    """The names of the domain events the workflow publishes."""
    names = []
    publish = events.publish

    def spy(published):
        published = list(published)
        names.extend(e.name for e in published)
        return publish(published)

    monkeypatch.setattr(events, "publish", spy)
    return names


def test_a_contact_starts_a_process_as_a_portal_request(run, customer):
    assert run.ticket.channel == Channel.PORTAL
    assert run.ticket.contact == customer
    assert run.ticket.subject == "New employee laptop"
    assert run.current_step.position == 1
    assert run.state == ProcessRun.State.RUNNING


def test_an_agent_starts_it_for_a_contact_as_a_phone_request_they_own(laptop, customer, agent):
    run = runs.start_process(laptop, contact=customer, subject="Laptop for Nina", by=agent)
    assert (run.ticket.channel, run.ticket.owner, run.ticket.subject) == (
        Channel.PHONE,
        agent,
        "Laptop for Nina",
    )


def test_an_agent_of_another_queue_cannot_start_it(laptop, customer):
    with pytest.raises(WorkflowError, match="not your queue"):
        runs.start_process(laptop, contact=customer, by=UserFactory())
    assert not ProcessRun.objects.exists()


def test_a_process_off_the_portal_cannot_be_started_there(laptop, customer):
    laptop.available_on_portal = False
    laptop.save()
    with pytest.raises(WorkflowError, match="cannot be started on the portal"):
        runs.start_process(laptop, contact=customer)


def test_the_customers_step_is_their_portal_message_and_the_run_moves_on(run, customer, told):
    submission = runs.submit_step(run, step(run, 1), WHO, contact=customer)
    message = submission.message
    assert (message.kind, message.is_public, message.author_contact) == (
        Message.Kind.PORTAL,
        True,
        customer,
    )
    assert message.body_text == (
        "Step 1 — Who and when\nName: Nina New\nStart date: 2025-09-01\nRole: Developer"
    )
    run.refresh_from_db()
    assert run.current_step.position == 2
    assert events.PROCESS_STEP_DONE in told
    assert Event.objects.filter(ticket=run.ticket, action="process_step_done").exists()


def test_a_step_out_of_order_is_refused_with_nothing_saved(run, agent):
    messages = Message.objects.count()
    with pytest.raises(WorkflowError, match="is not the current step; Step 1 — Who and when is"):
        runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    assert not StepSubmission.objects.exists()
    assert Message.objects.count() == messages


def test_an_agent_cannot_do_the_customers_step(run, agent):
    with pytest.raises(WorkflowError, match="is the customer's to do"):
        runs.submit_step(run, step(run, 1), WHO, by=agent)
    assert not StepSubmission.objects.exists()


def test_the_customer_cannot_do_the_agents_step(run, customer):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    with pytest.raises(WorkflowError, match="is an agent's to do"):
        runs.submit_step(run, step(run, 2), HARDWARE, contact=customer)
    assert StepSubmission.objects.count() == 1


def test_an_agent_outside_the_steps_team_is_refused(run, customer, portal_queue):
    colleague = UserFactory()
    portal_queue.members.add(colleague)
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    with pytest.raises(WorkflowError, match="is the team IT's to do; you are not a member"):
        runs.submit_step(run, step(run, 2), HARDWARE, by=colleague)
    assert StepSubmission.objects.count() == 1


def test_invalid_answers_are_refused_field_by_field_with_nothing_saved(run, customer):
    messages = Message.objects.count()
    answers = {"employee": "", "start_date": "soon", "role": "Astronaut"}
    with pytest.raises(runs.InvalidAnswers) as refused:
        runs.submit_step(run, step(run, 1), answers, contact=customer)
    assert set(refused.value.errors) == {"employee", "start_date", "role"}
    assert "Start date: Enter a valid date." in str(refused.value)
    assert not StepSubmission.objects.exists()
    assert Message.objects.count() == messages
    run.refresh_from_db()
    assert run.current_step.position == 1


def test_the_agents_step_is_an_internal_note_and_waits_for_approval(run, customer, agent):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    submission = runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    assert not submission.message.is_public
    assert submission.message.body_text.startswith(
        "Step 2 — Hardware choice\nModel: ThinkPad X1 Carbon"
    )
    run.refresh_from_db()
    assert (run.state, run.current_step.position) == (ProcessRun.State.AWAITING_APPROVAL, 2)
    with pytest.raises(WorkflowError, match="is not the current step"):
        runs.submit_step(run, step(run, 3), {"delivered": "yes"}, contact=customer)


def test_approval_moves_the_run_on_and_only_an_agent_gives_it(run, customer, agent):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    with pytest.raises(WorkflowError, match="approved by an agent"):
        runs.approve_step(run, by=customer.user)
    submission = runs.approve_step(run, by=agent)
    assert submission.approved_by == agent
    run.refresh_from_db()
    assert (run.state, run.current_step.position) == (ProcessRun.State.RUNNING, 3)
    with pytest.raises(WorkflowError, match="Nothing of “New employee laptop” waits"):
        runs.approve_step(run, by=agent)


def test_an_approver_sends_the_step_back_with_a_reason_and_it_is_done_again(run, customer, agent):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    first = runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    sent_back = runs.send_back_step(run, by=agent, reason="The X1 is out of stock.")
    assert (sent_back.pk, sent_back.sent_back_by, sent_back.approved_at) == (first.pk, agent, None)
    run.refresh_from_db()
    assert (run.state, run.current_step.position) == (ProcessRun.State.RUNNING, 2)
    note = run.ticket.messages.order_by("pk").last()
    assert (note.is_public, note.body_text) == (
        False,
        "Step 2 — Hardware choice is sent back: The X1 is out of stock.",
    )
    assert Event.objects.filter(ticket=run.ticket, action="process_step_sent_back").exists()
    with pytest.raises(WorkflowError, match="Nothing of “New employee laptop” waits"):
        runs.approve_step(run, by=agent)
    runs.submit_step(run, step(run, 2), {**HARDWARE, "model": "t14"}, by=agent)
    assert runs.approve_step(run, by=agent).answers["model"] == "t14"
    run.refresh_from_db()
    assert run.current_step.position == 3
    assert list(run.submissions.values_list("step__position", "sent_back_reason")) == [
        (1, ""),
        (2, "The X1 is out of stock."),
        (2, ""),
    ]


def test_sending_back_needs_a_reason_an_approver_and_a_step_that_waits(
    run, customer, agent, portal_queue
):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    with pytest.raises(WorkflowError, match="Nothing of “New employee laptop” waits"):
        runs.send_back_step(run, by=agent, reason="No.")
    runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    with pytest.raises(WorkflowError, match="Say why Step 2 — Hardware choice is sent back"):
        runs.send_back_step(run, by=agent, reason="  ")
    with pytest.raises(WorkflowError, match="approved by an agent"):
        runs.send_back_step(run, by=customer.user, reason="No.")
    outsider = UserFactory(is_staff=True)
    portal_queue.members.add(outsider)
    with pytest.raises(WorkflowError, match="team IT's to send back"):
        runs.send_back_step(run, by=outsider, reason="No.")
    run.refresh_from_db()
    assert run.state == ProcessRun.State.AWAITING_APPROVAL
    assert not run.submissions.exclude(sent_back_at=None).exists()


def test_a_customers_step_sent_back_reaches_them_as_a_reply(customer, agent, portal_queue):
    process = ProcessFactory(queue=portal_queue)
    fields = [{"name": "cost_centre", "label": "Cost centre", "required": True}]
    ProcessStepFactory(
        process=process, position=1, actor=ProcessStep.Actor.CUSTOMER, fields=fields,
        needs_approval=True,
    )  # fmt: skip
    run = runs.start_process(process, contact=customer)
    runs.submit_step(run, step(run, 1), {"cost_centre": "CC-1"}, contact=customer)
    runs.send_back_step(run, by=agent, reason="CC-1 is closed; use CC-7.")
    reply = run.ticket.messages.order_by("pk").last()
    assert (reply.is_public, reply.direction) == (True, Message.Direction.OUTBOUND)
    assert "CC-1 is closed; use CC-7." in reply.body_text
    runs.submit_step(run, step(run, 1), {"cost_centre": "CC-7"}, contact=customer)
    run.refresh_from_db()
    assert run.state == ProcessRun.State.AWAITING_APPROVAL


def test_the_last_step_finishes_the_run(run, customer, agent):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    runs.submit_step(run, step(run, 2), HARDWARE, by=agent)
    runs.approve_step(run, by=agent)
    runs.submit_step(run, step(run, 3), {"delivered": "yes"}, contact=customer)
    run.refresh_from_db()
    assert (run.state, run.current_step, run.finished_at is not None) == (
        ProcessRun.State.FINISHED,
        None,
        True,
    )
    assert Event.objects.filter(ticket=run.ticket, action="process_finished").exists()
    with pytest.raises(WorkflowError, match="finished already"):
        runs.submit_step(run, step(run, 3), {"delivered": "yes"}, contact=customer)


@pytest.fixture
def branching(agent, customer):
    queue = QueueFactory()
    queue.members.add(agent)
    process = ProcessFactory(queue=queue)
    yes_no = [{"name": "new", "label": "New hardware?", "type": "yes_no", "required": True}]
    branch = {"field": "new", "equals": "no", "go_to_position": 3}
    ProcessStepFactory(process=process, position=1, fields=yes_no, next_if=branch)
    ProcessStepFactory(process=process, position=2, name="Order")
    ProcessStepFactory(process=process, position=3, name="Hand over")
    return process


@pytest.mark.parametrize(("answer", "then"), [("no", 3), ("yes", 2)])
def test_a_branch_goes_to_its_position_when_the_answer_matches(
    branching, customer, agent, answer, then
):
    run = runs.start_process(branching, contact=customer, by=agent)
    runs.submit_step(run, step(run, 1), {"new": answer}, by=agent)
    run.refresh_from_db()
    assert run.current_step.position == then


def test_a_closed_request_takes_no_more_steps(run, customer, agent):
    workflow.close_ticket(run.ticket, resolved=True, by=agent)
    with pytest.raises(WorkflowError, match="is closed"):
        runs.submit_step(run, step(run, 1), WHO, contact=customer)


def test_another_contact_cannot_do_the_customers_step(run):
    from tests.factories import PortalContactFactory

    with pytest.raises(WorkflowError, match="Only the request's contact"):
        runs.submit_step(run, step(run, 1), WHO, contact=PortalContactFactory())


def test_a_team_step_needs_its_team(laptop):
    from django.core.exceptions import ValidationError

    bad = ProcessStep(process=laptop, position=9, name="X", actor=ProcessStep.Actor.TEAM)
    with pytest.raises(ValidationError, match="Pick the team"):
        bad.full_clean()
