"""The sweep (escalation.engine) driven with an injected `now`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from escalation import engine, notifications
from escalation.models import Notification
from tests.escalation.conftest import T0, EscalationLevelFactory, at
from tests.factories import PriorityFactory, QueuePriorityTimeFactory, TeamFactory, TicketFactory
from tickets import workflow
from tickets.models import EscalationLevel, Event, Ticket


def sweep(minutes):
    """One sweep, with what it leaves for after its commits (notifications, mail)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return engine.sweep(now=at(minutes))


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def actions(ticket):
    return list(Event.objects.filter(ticket=ticket).values_list("action", flat=True))


@pytest.fixture
def ticket(queue, agent, chain):
    return TicketFactory(queue=queue, owner=agent, now=T0)


def test_a_new_request_has_its_clocks_planned(ticket):
    assert (ticket.escalation_level, ticket.next_escalation_at) == (0, at(30))
    assert (ticket.alert_at, ticket.deadline) == (at(60), at(480))


def test_nothing_escalates_before_its_time(ticket):
    assert str(sweep(29)) == "escalated 0, alerted 0, overdue 0, woken 0"
    assert fresh(ticket).escalation_level == 0


def test_an_untouched_request_escalates_level_by_level_with_each_action(ticket, agent):
    workflow.mark_read(ticket, by=agent)

    assert sweep(30).escalated == 1
    first = fresh(ticket)
    assert (first.escalation_level, first.next_escalation_at) == (1, at(90))
    assert Notification.objects.get(recipient=agent, kind="escalation").ticket == ticket

    assert sweep(90).escalated == 1
    second = fresh(ticket)
    assert (second.escalation_level, second.is_unread) == (2, True)

    assert sweep(210).escalated == 1
    third = fresh(ticket)
    assert (third.escalation_level, third.priority.name) == (0, "High")
    assert actions(ticket).count("escalated") == 3
    assert {"notified", "marked_unread", "changed"} <= set(actions(ticket))
    reasons = Event.objects.filter(ticket=ticket, action="escalated").values_list(
        "reason", flat=True
    )
    assert list(reasons) == [
        "Level 1: Notify the owner",
        "Level 2: Mark unread for the owner",
        "Level 3: Raise the priority to High",
    ]


def test_a_late_sweep_applies_one_level_and_plans_the_next_from_now(ticket):
    assert sweep(1000).escalated == 1
    assert (fresh(ticket).escalation_level, fresh(ticket).next_escalation_at) == (1, at(1060))


def test_a_second_sweep_at_the_same_time_escalates_nothing(ticket):
    sweep(30)
    assert str(sweep(30)) == "escalated 0, alerted 0, overdue 0, woken 0"
    assert actions(ticket).count("escalated") == 1


def test_the_chain_ends_after_its_last_level(ticket):
    for minutes in (30, 90, 210):
        sweep(minutes)
    assert fresh(ticket).next_escalation_at is None


def test_delegation_hands_the_request_over_and_tells_the_new_owner(queue, medium, colleague):
    team = TeamFactory(name="Second line")
    EscalationLevelFactory(
        priority=medium,
        alert_level=1,
        action=EscalationLevel.Action.NOTIFY_OWNER,
        delegate_to_user=colleague,
        delegate_to_team=team,
    )
    ticket = TicketFactory(queue=queue, now=T0)
    sweep(30)
    ticket = fresh(ticket)
    assert (ticket.owner, ticket.team) == (colleague, team)
    kinds = Notification.objects.filter(recipient=colleague).values_list("kind", flat=True)
    assert sorted(kinds) == ["assignment", "escalation"]
    assert Event.objects.filter(ticket=ticket, action="assigned").count() == 2


def test_notify_team_tells_every_member(queue, medium, agent, colleague):
    team = TeamFactory(name="Printers")
    colleague.groups.add(team)
    agent.groups.add(team)
    EscalationLevelFactory(priority=medium, action=EscalationLevel.Action.NOTIFY_TEAM)
    ticket = TicketFactory(queue=queue, team=team, now=T0)
    sweep(30)
    recipients = Notification.objects.filter(ticket=ticket).values_list("recipient", flat=True)
    assert sorted(recipients) == sorted([agent.pk, colleague.pk])


def test_notify_team_without_a_team_tells_the_queues_agents(queue, medium, agent, colleague):
    EscalationLevelFactory(priority=medium, action=EscalationLevel.Action.NOTIFY_TEAM)
    ticket = TicketFactory(queue=queue, now=T0)
    sweep(30)
    assert Notification.objects.filter(ticket=ticket).count() == 2


def test_notify_an_address_emails_it(queue, medium, mailoutbox, django_capture_on_commit_callbacks):
    EscalationLevelFactory(
        priority=medium,
        action=EscalationLevel.Action.NOTIFY_ADDRESS,
        notify_address="duty@helpdesk.test",
    )
    ticket = TicketFactory(queue=queue, now=T0)
    with django_capture_on_commit_callbacks(execute=True):
        sweep(30)
    [mail] = mailoutbox
    assert mail.to == ["duty@helpdesk.test"]
    assert ticket.number in mail.subject
    assert Event.objects.get(ticket=ticket, action="notified").new_value == "duty@helpdesk.test"


def test_raising_the_priority_replans_deadline_and_chain(ticket, queue):
    high = PriorityFactory(name="High", rank=3)
    QueuePriorityTimeFactory(queue=queue, priority=high, alert_minutes=15, completion_minutes=120)
    EscalationLevelFactory(priority=high, alert_level=1, minutes=10)
    sweep(30)
    workflow.update_ticket(ticket, by=None, priority=high, now=at(40))
    ticket = fresh(ticket)
    assert (ticket.escalation_level, ticket.next_escalation_at) == (0, at(50))
    assert ticket.deadline == at(120)


def test_a_postponed_request_stands_still_and_resumes_with_the_time_it_had_used(ticket):
    workflow.postpone_ticket(ticket, until=at(200), by=None, now=at(20))
    assert sweep(100).escalated == 0
    assert sweep(200).woken == 1
    ticket = fresh(ticket)
    assert ticket.base_status == "active"
    # 20 of its 30 minutes to level 1 were used before the pause of 180 minutes.
    assert ticket.next_escalation_at == at(210)
    assert ticket.deadline == at(480 + 180)
    assert sweep(210).escalated == 1


def test_reactivating_early_resumes_the_clocks_from_then(ticket):
    workflow.postpone_ticket(ticket, until=at(500), by=None, now=at(20))
    workflow.reactivate_ticket(ticket, by=None, now=at(50))
    assert fresh(ticket).next_escalation_at == at(60)
    assert sweep(500).woken == 0


def test_closed_deleted_and_merged_requests_stop(queue, agent, chain):
    closed, deleted, merged, survivor = (TicketFactory(queue=queue, now=T0) for _ in range(4))
    workflow.close_ticket(closed, resolved=True, by=agent, now=at(1))
    workflow.delete_ticket(deleted, by=agent, now=at(1))
    workflow.merge_ticket(merged, into=survivor, by=agent, now=at(1))
    assert sweep(10_000).escalated == 1  # only the survivor


def test_reopening_a_closed_request_resumes_its_chain(ticket, agent):
    workflow.close_ticket(ticket, resolved=False, by=agent, now=at(10))
    workflow.reactivate_ticket(ticket, by=agent, now=at(100))
    assert fresh(ticket).next_escalation_at == at(120)


def test_a_request_still_new_past_its_alert_time_alerts_its_queue_once(queue, medium, agent):
    ticket = TicketFactory(queue=queue, now=T0)
    assert sweep(59).alerted == 0
    assert sweep(60).alerted == 1
    assert sweep(61).alerted == 0
    note = Notification.objects.get(ticket=ticket, kind="alert")
    assert note.recipient == agent
    assert "alerted" in actions(ticket)


def test_a_request_that_left_new_raises_no_alert(queue, medium, agent):
    ticket = TicketFactory(queue=queue, now=T0)
    workflow.progress_ticket(ticket, by=agent, now=at(10))
    assert fresh(ticket).alert_at is None
    assert sweep(60).alerted == 0


def test_a_passed_deadline_is_flagged_once_and_tells_the_owner(queue, medium, agent):
    ticket = TicketFactory(queue=queue, owner=agent, now=T0)
    assert sweep(479).overdue == 0
    assert sweep(480).overdue == 1
    assert sweep(481).overdue == 0
    assert Notification.objects.get(ticket=ticket, kind="overdue").recipient == agent
    assert list(Ticket.objects.overdue(at(481))) == [ticket]


def test_a_later_deadline_clears_the_overdue_flag(queue, medium, agent):
    ticket = TicketFactory(queue=queue, now=T0)
    sweep(480)
    low = PriorityFactory(name="Low", rank=1)
    QueuePriorityTimeFactory(queue=queue, priority=low, completion_minutes=2000)
    workflow.update_ticket(ticket, by=agent, priority=low, now=at(500))
    assert fresh(ticket).overdue_flagged_at is None
    assert sweep(2000).overdue == 1


def test_a_postponed_request_wakes_when_its_time_comes(queue, agent):
    ticket = TicketFactory(queue=queue, now=T0)
    workflow.postpone_ticket(ticket, until=at(60), by=agent, now=at(1))
    assert sweep(59).woken == 0
    assert sweep(60).woken == 1
    event = Event.objects.filter(ticket=ticket, field="status").last()
    assert "has come" in event.reason


def test_one_failing_request_does_not_stop_the_sweep(ticket, queue, monkeypatch):
    other = TicketFactory(queue=queue, now=T0)
    real = notifications.tell

    def tell(notices, **kwargs):
        if any(notice.ticket.pk == ticket.pk for notice in notices):
            raise RuntimeError("boom")
        return real(notices, **kwargs)

    monkeypatch.setattr(notifications, "tell", tell)
    assert sweep(30).escalated == 1
    assert (fresh(ticket).escalation_level, fresh(other).escalation_level) == (0, 1)
    assert actions(ticket).count("escalated") == 0


def test_the_command_prints_the_counts_as_its_last_line(ticket):
    out = StringIO()
    call_command("escalate", "--now", at(30).isoformat(), stdout=out)
    assert out.getvalue().splitlines()[-1] == "escalated 1, alerted 0, overdue 0, woken 0"


def test_the_command_refuses_a_garbled_time():
    with pytest.raises(CommandError, match="ISO time"):
        call_command("escalate", "--now", "next tuesday", stdout=StringIO())


def test_a_sweep_works_through_more_due_requests_than_one_batch(queue, agent, chain):
    tickets = [TicketFactory(queue=queue, owner=agent, now=T0) for _ in range(5)]
    assert engine.sweep(now=at(30), size=2).escalated == 5
    assert {fresh(t).escalation_level for t in tickets} == {1}


def test_a_run_stops_at_its_limit_and_the_next_run_goes_on(queue, agent, chain):
    for _ in range(5):
        TicketFactory(queue=queue, owner=agent, now=T0)
    assert engine.sweep(now=at(30), size=2, limit=4).escalated == 4
    assert engine.sweep(now=at(30), size=2, limit=4).escalated == 1
