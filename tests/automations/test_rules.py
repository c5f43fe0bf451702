"""Rules answer the request's domain events after the commit: each trigger, each kind of
action through the workflow, and the safety around them (own changes, chains, failures,
broken rules)."""

import pytest

from automations import engine
from automations.models import Action, Condition, Rule, RuleRun, Trigger
from tests.factories import (
    ActionFactory,
    CategoryFactory,
    ConditionFactory,
    ContactFactory,
    CustomFieldFactory,
    PriorityFactory,
    QueueFactory,
    ReplyTemplateFactory,
    RuleFactory,
    StatusFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
F, Op, K = Condition.Field, Condition.Operator, Action.Kind


@pytest.fixture
def urgent():
    return PriorityFactory(name="Urgent", rank=4)


def rule_on(trigger, *actions, **fields) -> Rule:
    rule = RuleFactory(trigger=trigger, **fields)
    for order, action in enumerate(actions):
        ActionFactory(rule=rule, order=order, **action)
    return rule


def reloaded(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# Triggers ----------------------------------------------------------------------------


def test_a_new_request_fires_a_created_rule(queue, agent, committed, urgent):
    rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent})
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    assert reloaded(ticket).priority == urgent


@pytest.mark.parametrize(
    ("trigger", "change"),
    [
        (Trigger.UPDATED, lambda t, a: workflow.update_ticket(t, subject="New words", by=a)),
        (Trigger.PROGRESSED, lambda t, a: workflow.progress_ticket(t, by=a)),
        (Trigger.CLOSED, lambda t, a: workflow.close_ticket(t, resolved=True, by=a)),
        (Trigger.NOTE_ADDED, lambda t, a: workflow.add_note(t, text="Hm.", by=a)),
        (Trigger.OWNER_CHANGED, lambda t, a: workflow.assign_ticket(t, owner=a, by=a)),
        (
            Trigger.MESSAGE_RECEIVED,
            lambda t, a: workflow.add_message(
                t,
                by=None,
                kind=Message.Kind.EMAIL,
                direction=Message.Direction.INBOUND,
                body_text="More.",
            ),
        ),
    ],
)
def test_each_trigger_fires_its_rules(queue, agent, committed, trigger, change):
    rule_on(trigger, {"kind": K.ADD_TAG, "tag": TagFactory(name="seen")})
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        change(ticket, agent)
    assert RuleRun.objects.get().outcome == RuleRun.Outcome.DONE
    assert [t.name for t in reloaded(ticket).tags.all()] == ["seen"]


def test_regress_note_update_and_approval_fire_their_rules(queue, agent, committed):
    tags = {name: TagFactory(name=name) for name in ("back", "pinned", "asked")}
    rule_on(Trigger.REGRESSED, {"kind": K.ADD_TAG, "tag": tags["back"]})
    rule_on(Trigger.NOTE_UPDATED, {"kind": K.ADD_TAG, "tag": tags["pinned"]})
    rule_on(Trigger.APPROVAL_REQUESTED, {"kind": K.ADD_TAG, "tag": tags["asked"]})
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.progress_ticket(ticket, by=agent)
    note = workflow.add_note(ticket, text="Quote sent.", by=agent)
    with committed():
        workflow.regress_ticket(ticket, reason="Wrong stage", by=agent)
    with committed():
        workflow.pin_note(note, pinned=True, by=agent)
    with committed():
        workflow.request_approval(ticket, text="300 EUR", by=agent)
    assert {t.name for t in reloaded(ticket).tags.all()} == {"back", "pinned", "asked"}


def test_a_rule_runs_only_when_its_conditions_hold(queue, agent, committed, urgent):
    rule = rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent})
    ConditionFactory(rule=rule, field=F.SUBJECT, operator=Op.CONTAINS, value="outage")
    with committed():
        calm = TicketFactory(queue=queue, by=agent, subject="A question")
        burning = TicketFactory(queue=queue, by=agent, subject="Total OUTAGE")
    assert reloaded(calm).priority != urgent
    assert reloaded(burning).priority == urgent
    assert RuleRun.objects.get().because == "on new request, because subject contains “outage”"


def test_an_inactive_rule_does_nothing(queue, agent, committed, urgent):
    rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent}, is_active=False)
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    assert reloaded(ticket).priority != urgent
    assert not RuleRun.objects.exists()


# Actions -----------------------------------------------------------------------------


def test_field_actions_change_the_request_through_the_workflow(queue, agent, committed, urgent):
    team = TeamFactory(name="Tier 2")
    printers = CategoryFactory(name="Printers")
    plan = CustomFieldFactory(key="plan")
    old = TagFactory(name="new")
    rule_on(
        Trigger.UPDATED,
        {"kind": K.SET_OWNER, "user": agent},
        {"kind": K.SET_TEAM, "team": team},
        {"kind": K.SET_PRIORITY, "priority": urgent},
        {"kind": K.SET_CATEGORY, "category": printers},
        {"kind": K.ADD_TAG, "tag": TagFactory(name="triaged")},
        {"kind": K.REMOVE_TAG, "tag": old},
        {"kind": K.SET_CUSTOM_FIELD, "custom_field": plan, "value": "Gold"},
    )
    ticket = TicketFactory(queue=queue, by=agent, tags=[old])
    with committed():
        workflow.update_ticket(ticket, subject="Printer jams", by=agent)
    ticket = reloaded(ticket)
    assert (ticket.owner, ticket.team, ticket.priority, ticket.category) == (
        agent,
        team,
        urgent,
        printers,
    )
    assert [t.name for t in ticket.tags.all()] == ["triaged"]
    assert ticket.custom_fields == {"plan": "Gold"}
    # The history names the rule as the actor of each change, and its run.
    changes = ticket.events.filter(via=f"rule “{Rule.objects.get().name}”")
    assert {"owner", "team", "priority", "category", "tags", "custom_fields"} <= {
        e.field for e in changes
    }
    assert changes.get(action="automation_ran").reason.startswith("on update of its fields")
    assert len(RuleRun.objects.get().changes) == 7


def test_status_and_close_actions(queue, agent, committed):
    waiting = StatusFactory(name="Waiting for parts")
    rule_on(Trigger.NOTE_ADDED, {"kind": K.SET_STATUS, "status": waiting, "hours": 48})
    rule_on(Trigger.OWNER_CHANGED, {"kind": K.CLOSE_UNRESOLVED})
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.add_note(ticket, text="Parts ordered.", by=agent)
    assert reloaded(ticket).status == waiting
    with committed():
        workflow.assign_ticket(ticket, owner=agent, by=agent)
    ticket = reloaded(ticket)
    assert (ticket.base_status, ticket.resolved) == ("closed", False)


def test_send_email_from_a_template_to_the_contact_and_the_owner(queue, agent, committed):
    template = ReplyTemplateFactory(subject="We got {number}", body="Hello {contact_name}!")
    rule_on(
        Trigger.CREATED,
        {"kind": K.SEND_EMAIL, "template": template, "recipient": Action.Recipient.CONTACT},
        {"kind": K.SEND_EMAIL, "template": template, "recipient": Action.Recipient.OWNER},
    )
    contact = ContactFactory(name="Ann", email="ann@example.org")
    with committed():
        ticket = TicketFactory(queue=queue, by=agent, contact=contact, owner=agent)
    sent = ticket.messages.filter(direction=Message.Direction.OUTBOUND).order_by("pk")
    assert [(m.to, m.is_public) for m in sent] == [
        ("ann@example.org", True),
        (agent.email, False),  # the agents' mail stays off the portal
    ]
    assert sent[0].body_text == "Hello Ann!"
    assert sent[0].subject.startswith(f"We got {ticket.number}")


def test_a_note_and_an_approval(queue, agent, committed):
    rule_on(
        Trigger.PROGRESSED,
        {"kind": K.ADD_NOTE, "value": "Check the warranty first."},
        {"kind": K.REQUEST_APPROVAL, "value": "Repair for 120 EUR"},
    )
    queue_with_steps = QueueFactory(stages=["Triage", "Quote", "Repair"])
    queue_with_steps.members.add(agent)
    ticket = TicketFactory(queue=queue_with_steps, by=agent)
    with committed():
        workflow.progress_ticket(ticket, by=agent)
    assert ticket.messages.get(kind="note").body_text == "Check the warranty first."
    approval = ticket.approvals.get()
    assert (approval.text, approval.stage.name) == ("Repair for 120 EUR", "Quote")


# Safety ------------------------------------------------------------------------------


def test_a_rule_does_not_answer_its_own_change(queue, agent, committed):
    # On every update it adds a tag, which is an update: it must run once, not forever.
    rule_on(Trigger.UPDATED, {"kind": K.ADD_TAG, "tag": TagFactory(name="touched")})
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.update_ticket(ticket, subject="Changed", by=agent)
    assert RuleRun.objects.count() == 1


def test_two_rules_do_not_ping_pong(queue, agent, committed):
    ping, pong = TagFactory(name="ping"), TagFactory(name="pong")
    first = rule_on(
        Trigger.UPDATED, {"kind": K.ADD_TAG, "tag": ping}, {"kind": K.REMOVE_TAG, "tag": pong}
    )
    second = rule_on(
        Trigger.UPDATED, {"kind": K.ADD_TAG, "tag": pong}, {"kind": K.REMOVE_TAG, "tag": ping}
    )
    ConditionFactory(rule=first, field=F.TAGS, operator=Op.CHANGED_TO, tag=pong)
    ConditionFactory(rule=second, field=F.TAGS, operator=Op.CHANGED_TO, tag=ping)
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.set_tags(ticket, tags=[pong], by=agent)
    # first answers the agent; second answers first; first does not answer second.
    assert list(RuleRun.objects.order_by("pk").values_list("rule", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_a_chain_of_rules_stops_at_the_limit_with_a_log_entry(queue, agent, committed):
    tags = [TagFactory(name=f"step{n}") for n in range(engine.MAX_CHAIN + 2)]
    for n in range(engine.MAX_CHAIN + 1):
        rule = rule_on(Trigger.UPDATED, {"kind": K.ADD_TAG, "tag": tags[n + 1]}, order=n)
        ConditionFactory(rule=rule, field=F.TAGS, operator=Op.CHANGED_TO, tag=tags[n])
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.set_tags(ticket, tags=[tags[0]], by=agent)
    outcomes = list(RuleRun.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["done"] * engine.MAX_CHAIN + ["chain_limit"]
    stopped = RuleRun.objects.get(outcome="chain_limit")
    assert f"the chain stops at {engine.MAX_CHAIN}" in stopped.error
    assert not reloaded(ticket).tags.filter(name=tags[-1].name).exists()


def test_a_failing_rule_is_logged_and_skipped_and_the_rest_still_run(
    queue, agent, committed, urgent
):
    # An internal request has no contact to approve: the workflow refuses.
    failing = rule_on(
        Trigger.CREATED,
        {"kind": K.SET_PRIORITY, "priority": PriorityFactory(name="Low", rank=1)},
        {"kind": K.REQUEST_APPROVAL, "value": "Approve?"},
        order=1,
    )
    rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent}, order=2)
    with committed():
        ticket = TicketFactory(
            queue=queue, by=agent, contact=None, channel="internal", subject="Internal"
        )
    run = RuleRun.objects.get(rule=failing)
    assert run.outcome == RuleRun.Outcome.FAILED
    assert "there is nobody to approve" in run.error
    ticket = reloaded(ticket)
    assert ticket.priority == urgent  # the failing rule's first action was rolled back too
    assert not ticket.events.filter(via=failing.label).exists()


def test_a_broken_rule_is_skipped_not_an_error(queue, agent, committed, urgent):
    gone = QueueFactory(name="Retired")
    rule = rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent})
    ConditionFactory(rule=rule, field=F.QUEUE, operator=Op.IS_NOT, queue=gone)
    gone.delete()
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    assert reloaded(ticket).priority != urgent
    assert engine.problems(engine.with_parts(Rule.objects.all()).get()) == [
        "The queue it compares with no longer exists."
    ]


def test_a_rule_whose_template_is_deleted_is_broken(queue, agent):
    template = ReplyTemplateFactory()
    rule = rule_on(
        Trigger.CREATED, {"kind": K.SEND_EMAIL, "template": template, "recipient": "contact"}
    )
    template.delete()
    assert (
        "reply template it names no longer exists"
        in engine.problems(engine.with_parts(Rule.objects.filter(pk=rule.pk)).get())[0]
    )


def test_rules_of_other_agents_queues_still_run_as_the_system(queue, committed, urgent):
    # A rule acts for nobody in particular: its changes are the system's, named after it.
    rule_on(Trigger.CREATED, {"kind": K.SET_PRIORITY, "priority": urgent})
    stranger = UserFactory()
    with committed():
        ticket = TicketFactory(queue=queue, by=stranger)
    event = reloaded(ticket).events.get(field="priority")
    assert (event.actor, event.via) == (None, Rule.objects.get().label)


def test_without_rules_for_a_trigger_its_events_are_not_even_kept(queue, agent, committed):
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.update_ticket(ticket, subject="Nobody listens", by=agent)
    assert not ticket.domain_events.filter(name="updated").exists()
    rule = rule_on(Trigger.UPDATED, {"kind": K.ADD_TAG, "tag": TagFactory(name="heard")})
    Rule.objects.filter(pk=rule.pk).update(is_active=False)
    Rule.objects.filter(pk=rule.pk).update(is_active=True)  # the admin's "switch on"
    with committed():
        workflow.update_ticket(ticket, subject="Now a rule listens", by=agent)
    assert [t.name for t in reloaded(ticket).tags.all()] == ["heard"]


def test_a_rule_asks_a_team_to_approve(queue, agent, committed):
    team = TeamFactory(name="Managers")
    rule_on(Trigger.CREATED, {"kind": K.REQUEST_APPROVAL, "value": "Sign off", "team": team})
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    approval = ticket.approvals.get()
    assert (approval.asks, approval.approver_team) == ("agents", team)
    assert RuleRun.objects.get().changes == ["approval asked of team Managers for Triage"]


def test_send_email_to_the_team_and_to_an_address(queue, agent, committed):
    team = TeamFactory(name="Tier 2")
    for member in (UserFactory(email="t1@helpdesk.test"), UserFactory(email="t2@helpdesk.test")):
        member.groups.add(team)
    template = ReplyTemplateFactory(subject="Heads-up on {number}", body="See {number}.")
    rule_on(
        Trigger.CREATED,
        {"kind": K.SEND_EMAIL, "template": template, "recipient": Action.Recipient.TEAM},
        {
            "kind": K.SEND_EMAIL,
            "template": template,
            "recipient": "address",
            "value": "noc@example.org",
        },
    )
    with committed():
        ticket = TicketFactory(queue=queue, by=agent, team=team)
    sent = ticket.messages.filter(direction=Message.Direction.OUTBOUND).order_by("pk")
    assert [m.to for m in sent] == ["t1@helpdesk.test, t2@helpdesk.test", "noc@example.org"]
    assert not any(m.is_public for m in sent)


def test_mail_to_a_team_without_one_fails_the_rule_and_says_why(queue, agent, committed):
    template = ReplyTemplateFactory()
    rule_on(Trigger.CREATED, {"kind": K.SEND_EMAIL, "template": template, "recipient": "team"})
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    run = RuleRun.objects.get()
    assert (run.outcome, run.error) == (
        "failed",
        f"{ticket.number} has no team whose members have email addresses to mail.",
    )
