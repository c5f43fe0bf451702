"""Time spent: three counters, switched by the workflow in the same transaction."""

from datetime import timedelta

import pytest

from tests.escalation.conftest import T0, at
from tests.factories import TicketFactory
from tickets import workflow
from tickets.models import Message, Ticket, TimeSpent


def minutes(n):
    return timedelta(minutes=n)


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def external_answer(ticket, when):
    workflow.add_message(
        ticket,
        by=None,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        is_public=False,
        is_external=True,
        body_text="We have the part.",
        now=when,
    )


@pytest.fixture
def ticket(queue):
    return TicketFactory(queue=queue, now=T0)


def test_an_unassigned_request_counts_queue_time(ticket):
    assert (ticket.time_counter, ticket.time_counter_since) == ("queue", T0)
    assert fresh(ticket).time_spent(at(15)) == TimeSpent(minutes(15), minutes(0), minutes(0))


def test_a_request_registered_with_an_owner_counts_internal_time(queue, agent):
    ticket = TicketFactory(queue=queue, owner=agent, now=T0)
    assert ticket.time_spent(at(5)).internal == minutes(5)


def test_the_counters_follow_owner_forward_and_answer_and_add_up_to_open_time(ticket, agent):
    workflow.assign_ticket(ticket, by=agent, owner=agent, now=at(10))
    workflow.forward_to_external(
        ticket, by=agent, to="parts@supplier.test", body="Do you have it?", now=at(30)
    )
    assert fresh(ticket).time_counter == "external"
    external_answer(ticket, at(90))
    assert fresh(ticket).time_counter == "internal"
    workflow.postpone_ticket(ticket, until=at(200), by=agent, now=at(100))
    workflow.close_ticket(ticket, resolved=True, by=agent, now=at(120))
    ticket = fresh(ticket)
    assert ticket.time_spent(at(500)) == TimeSpent(minutes(10), minutes(50), minutes(60))
    assert ticket.time_spent().total == ticket.closed_at - ticket.created_at
    assert (ticket.time_counter, ticket.time_counter_since) == ("", None)


def test_a_colleague_asked_about_an_unassigned_request_makes_it_internal(ticket, agent, colleague):
    workflow.ask_colleague(ticket, colleague=colleague, question="Seen it?", by=agent, now=at(20))
    assert fresh(ticket).time_spent(at(30)) == TimeSpent(minutes(20), minutes(10), minutes(0))


def test_unassigning_goes_back_to_queue_time(ticket, agent):
    workflow.assign_ticket(ticket, by=agent, owner=agent, now=at(10))
    workflow.assign_ticket(ticket, by=agent, owner=None, now=at(25))
    assert fresh(ticket).time_spent(at(30)) == TimeSpent(minutes(15), minutes(15), minutes(0))


def test_a_reopened_request_counts_again_and_closed_time_is_not_counted(ticket, agent):
    workflow.close_ticket(ticket, resolved=False, by=agent, now=at(10))
    workflow.reactivate_ticket(ticket, by=agent, now=at(100))
    assert fresh(ticket).time_spent(at(110)).total == minutes(20)


def test_deleted_and_merged_requests_stop_counting(queue, agent):
    deleted, merged, survivor = (TicketFactory(queue=queue, now=T0) for _ in range(3))
    workflow.delete_ticket(deleted, by=agent, now=at(10))
    workflow.merge_ticket(merged, into=survivor, by=agent, now=at(20))
    assert fresh(deleted).time_spent(at(99)).total == minutes(10)
    assert fresh(merged).time_spent(at(99)).total == minutes(20)


def test_an_answer_from_the_customer_does_not_stop_the_external_counter(ticket, agent):
    workflow.forward_to_external(ticket, by=agent, to="x@supplier.test", body="?", now=at(10))
    workflow.add_message(
        ticket,
        by=None,
        contact=ticket.contact,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        body_text="Any news?",
        now=at(20),
    )
    assert fresh(ticket).time_counter == "external"


def test_first_response_time_is_from_creation_to_the_first_reply(ticket, agent):
    assert ticket.first_response_time is None
    workflow.reply_to_customer(ticket, by=agent, body="On it.", now=at(42))
    workflow.reply_to_customer(ticket, by=agent, body="Done.", now=at(50))
    assert fresh(ticket).first_response_time == minutes(42)
