"""Time-based rules, checked by beat's sweep with the clock moved: each request is judged
once per occasion (the moment its hours count from)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automations import engine
from automations.models import Action, Condition, RuleRun, TimeBasis, Trigger
from tests.factories import (
    ActionFactory,
    ConditionFactory,
    QueuePriorityTimeFactory,
    RuleFactory,
    StatusFactory,
    TicketFactory,
)
from tickets import workflow

pytestmark = pytest.mark.django_db
K = Action.Kind


def timed_rule(basis, hours, **fields):
    rule = RuleFactory(trigger=Trigger.TIME, time_basis=basis, hours=hours, **fields)
    ActionFactory(rule=rule, kind=K.ADD_NOTE, value="Reminder: this request waits.")
    return rule


def test_pending_three_days_fires_once_after_three_days(queue, agent):
    waiting = StatusFactory(name="Waiting for customer")
    rule = timed_rule(TimeBasis.IDLE, 72)
    ConditionFactory(rule=rule, field=Condition.Field.STATUS, operator="is", status=waiting)
    start = timezone.now()
    ticket = TicketFactory(queue=queue, by=agent, now=start)
    workflow.change_status(
        ticket, status=waiting, postponed_until=start + timedelta(days=30), by=agent, now=start
    )
    other = TicketFactory(queue=queue, by=agent, now=start)  # not waiting: left alone
    assert engine.sweep_timers(now=start + timedelta(hours=71)) == 0
    engine.sweep_timers(now=start + timedelta(hours=73))
    engine.sweep_timers(now=start + timedelta(hours=74))  # judged already: no second note
    assert ticket.messages.filter(kind="note").count() == 1
    assert not other.messages.filter(kind="note").exists()
    assert RuleRun.objects.get().because == f"on time-based, because status is “{waiting}”"


def test_four_hours_before_the_deadline(queue, agent):
    QueuePriorityTimeFactory(queue=queue, priority=queue.default_priority, completion_minutes=600)
    timed_rule(TimeBasis.BEFORE_DEADLINE, 4)
    start = timezone.now()
    ticket = TicketFactory(queue=queue, by=agent, now=start)
    assert ticket.deadline == start + timedelta(hours=10)
    assert engine.sweep_timers(now=start + timedelta(hours=5)) == 0
    assert engine.sweep_timers(now=start + timedelta(hours=7)) == 1
    assert engine.sweep_timers(now=start + timedelta(hours=11)) == 0  # past it: too late
    assert ticket.messages.filter(kind="note").count() == 1


def test_in_stage_counts_from_entering_the_stage(queue, agent):
    rule = timed_rule(TimeBasis.IN_STAGE, 24)
    ConditionFactory(
        rule=rule, field=Condition.Field.STAGE, operator="is", stage=queue.stages.get(name="Triage")
    )
    start = timezone.now()
    ticket = TicketFactory(queue=queue, by=agent, now=start - timedelta(days=5))
    workflow.progress_ticket(ticket, by=agent, now=start)  # into Triage now
    assert engine.sweep_timers(now=start + timedelta(hours=23)) == 0
    assert engine.sweep_timers(now=start + timedelta(hours=25)) == 1


def test_the_sweep_is_bounded_and_goes_on_where_it_stopped(queue, agent):
    timed_rule(TimeBasis.IDLE, 1)
    start = timezone.now()
    tickets = [TicketFactory(queue=queue, by=agent, now=start) for _ in range(5)]
    later = start + timedelta(hours=2)
    assert engine.sweep_timers(now=later, limit=3) == 3
    assert engine.sweep_timers(now=later, limit=3) == 2
    assert engine.sweep_timers(now=later, limit=3) == 0
    assert all(t.messages.filter(kind="note").count() == 1 for t in tickets)


def test_a_request_that_never_matches_does_not_crowd_out_the_rest(queue, agent):
    rule = timed_rule(TimeBasis.IDLE, 1)
    ConditionFactory(rule=rule, field=Condition.Field.BODY, operator="contains", value="urgent")
    start = timezone.now()
    for _ in range(3):
        TicketFactory(queue=queue, by=agent, now=start, body="calm")
    wanted = TicketFactory(queue=queue, by=agent, now=start, body="urgent please")
    engine.sweep_timers(now=start + timedelta(hours=2), limit=2)
    assert wanted.messages.filter(kind="note").exists()  # the query left the calm ones out


def test_a_time_rules_own_note_starts_a_new_occasion(queue, agent):
    # Unchanged for a day → a reminder; the reminder is a change, so a day later, another.
    timed_rule(TimeBasis.IDLE, 24)
    start = timezone.now()
    ticket = TicketFactory(queue=queue, by=agent, now=start)
    engine.sweep_timers(now=start + timedelta(hours=25))
    engine.sweep_timers(now=start + timedelta(hours=26))
    engine.sweep_timers(now=start + timedelta(hours=50))
    assert ticket.messages.filter(kind="note").count() == 2


def test_the_beat_task_runs_the_sweep(queue, agent):
    from automations import tasks

    timed_rule(TimeBasis.IDLE, 1)
    TicketFactory(queue=queue, by=agent, now=timezone.now() - timedelta(hours=2))
    assert tasks.run_time_rules() == 1


def test_the_dry_run_of_a_time_rule_counts_only_those_whose_time_has_come(queue, agent):
    rule = timed_rule(TimeBasis.IDLE, 24)
    TicketFactory(queue=queue, by=agent, now=timezone.now() - timedelta(hours=30))
    TicketFactory(queue=queue, by=agent)
    result = engine.dry_run(rule)
    assert result.count == 1
    assert not ticket_notes()


def ticket_notes():
    from tickets.models import Message

    return list(Message.objects.filter(kind="note"))
