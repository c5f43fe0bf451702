"""Domain events: recorded with the change, dispatched after the commit, each subscriber
once, a failing one tried again without running the others twice."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import events, workflow
from tickets.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """Subscribers added by a test are gone after it; returns what each one was told."""
    monkeypatch.setattr(
        events, "_subscribers", {name: list(s) for name, s in events._subscribers.items()}
    )
    told: dict[str, list[DomainEvent]] = {}

    def listen(name, key, fail_times=0):
        calls = told.setdefault(key, [])
        failures = [fail_times]

        def handler(event):
            calls.append(event)
            if failures[0]:
                failures[0] -= 1
                raise RuntimeError(f"{key} is down")

        events.subscribe(name, handler, key=key)
        return calls

    return listen


@pytest.fixture
def ticket(queue, agent, committed):
    with committed():  # its own events are dispatched, not left for the re-dispatch
        return TicketFactory(queue=queue, by=agent)


def test_an_event_is_told_after_the_commit_with_its_payload(heard, ticket, agent, committed):
    notes = heard(events.NOTE_ADDED, "test.notes")
    with committed():
        note = workflow.add_note(ticket, text="Called the customer.", by=agent)
        assert notes == []  # not before the change is committed
    [event] = notes
    assert (event.ticket_id, event.actor_id, event.payload["message"]) == (
        ticket.pk,
        agent.pk,
        note.pk,
    )
    event.refresh_from_db()
    assert event.handled == ["test.notes"] and event.dispatched_at is not None


def test_a_rolled_back_change_tells_nothing(heard, ticket, agent, committed):
    notes = heard(events.NOTE_ADDED, "test.notes")
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        workflow.add_note(ticket, text="Never saved.", by=agent)
        raise RuntimeError("the request failed after the note")
    assert notes == [] and not DomainEvent.objects.filter(name=events.NOTE_ADDED).exists()


def test_closing_tells_whether_the_request_was_resolved(heard, ticket, agent, committed):
    closed = heard(events.CLOSED, "test.closed")
    with committed():
        workflow.close_ticket(ticket, resolved=False, by=agent)
    assert [(e.payload["field"], e.payload["new"]) for e in closed] == [("resolved", False)]


def test_a_failing_subscriber_is_tried_again_and_the_others_are_not(
    heard, ticket, agent, committed
):
    steady = heard(events.NOTE_ADDED, "test.steady")
    flaky = heard(events.NOTE_ADDED, "test.flaky", fail_times=1)
    with committed():
        workflow.add_note(ticket, text="Called the customer.", by=agent)
    event = DomainEvent.objects.get(name=events.NOTE_ADDED)
    assert (event.handled, event.attempts, event.dispatched_at) == (["test.steady"], 1, None)
    assert "test.flaky is down" in event.last_error

    assert events.redispatch_missed() == 0  # too soon: the after-commit dispatch may run yet
    later = timezone.now() + events.RETRY_AFTER + timedelta(seconds=1)
    assert events.redispatch_missed(now=later) == 1
    assert (len(steady), len(flaky)) == (1, 2)
    event.refresh_from_db()
    assert event.handled == ["test.steady", "test.flaky"] and event.last_error == ""
    assert events.redispatch_missed(now=later) == 0


def test_a_subscriber_that_never_recovers_is_given_up_after_the_last_attempt(
    heard, ticket, agent, committed
):
    heard(events.NOTE_ADDED, "test.broken", fail_times=1000)
    with committed():
        workflow.add_note(ticket, text="Called the customer.", by=agent)
    now = timezone.now()
    for _ in range(events.MAX_ATTEMPTS + 3):
        now += events.RETRY_AFTER * 2
        events.redispatch_missed(now=now)
    event = DomainEvent.objects.get(name=events.NOTE_ADDED)
    assert event.attempts == events.MAX_ATTEMPTS and event.dispatched_at is None


def test_what_a_failing_subscriber_wrote_is_rolled_back(heard, ticket, agent, committed):
    def write_then_fail(event):
        workflow.add_note(event.ticket, text="Half done.", by=None)
        raise RuntimeError("failed after writing")

    events.subscribe(events.CLOSED, write_then_fail, key="test.half")
    with committed():
        workflow.close_ticket(ticket, resolved=True, by=agent)
    assert "failed after writing" in DomainEvent.objects.get(name=events.CLOSED).last_error
    assert not ticket.messages.filter(body_text="Half done.").exists()


def test_an_event_nobody_listens_to_is_not_stored(heard, ticket, agent, committed):
    with committed():
        workflow.add_note(ticket, text="Called the customer.", by=agent)
    assert not DomainEvent.objects.filter(name=events.NOTE_ADDED).exists()


def test_an_unknown_event_name_is_refused(heard):
    with pytest.raises(ValueError, match="No domain event"):
        events.subscribe("ticket_exploded", lambda event: None, key="test.unknown")
    with pytest.raises(ValueError, match="No domain event"):
        events.event("ticket_exploded", None)


def test_a_subscriber_is_called_only_for_the_events_it_wants(heard, queue, agent, committed):
    phone_calls = []
    events.subscribe(
        events.CREATED,
        phone_calls.append,
        key="test.phone",
        when=lambda event: event.payload["channel"] == "phone",
    )
    with committed():
        TicketFactory(queue=queue, by=agent, channel="phone", subject="Called")
        TicketFactory(queue=queue, by=agent, channel="portal", subject="Wrote")
    assert [event.ticket.subject for event in phone_calls] == ["Called"]
    # A creation no subscriber wants is not even stored: the portal's acknowledgement
    # wants portal requests only, and the mail gateway's mail.
    TicketFactory(queue=queue, by=agent, channel="internal", subject="Noted")
    assert not DomainEvent.objects.filter(name=events.CREATED, ticket__subject="Noted").exists()
