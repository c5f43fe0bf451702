from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    CategoryFactory,
    ContactFactory,
    PriorityFactory,
    PriorityRuleFactory,
    QueueFactory,
    QueuePriorityTimeFactory,
    StatusFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Channel, Event, Level, Message, Stage, Status, Ticket
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory()


@pytest.fixture
def ticket():
    return TicketFactory(queue=QueueFactory(stages=["Triage", "Investigating"]))


def actions(ticket):
    return list(Event.objects.filter(ticket=ticket).values_list("action", flat=True))


# Creating a request


def test_create_numbers_from_the_queue_scheme_and_starts_new_and_active():
    queue = QueueFactory(numbering_scheme="SUP-{year}-{seq:04}")
    ticket = TicketFactory(queue=queue)
    assert ticket.number == f"SUP-{timezone.now():%Y}-0001"
    assert ticket.stage.state == Stage.State.NEW
    assert ticket.status == Status.builtin(Status.Base.ACTIVE)
    assert ticket.base_status == Status.Base.ACTIVE


def test_create_writes_the_first_message_from_the_contact_and_a_created_event():
    contact = ContactFactory()
    ticket = TicketFactory(contact=contact, channel=Channel.PHONE, body="My laptop is dead.")
    message = ticket.messages.get()
    assert message.kind == Message.Kind.PHONE
    assert message.author_contact == contact
    assert message.direction == Message.Direction.INBOUND
    assert message.body_text == "My laptop is dead."
    assert actions(ticket) == ["created"]


def test_internal_request_has_no_contact_and_a_note_as_first_message(agent):
    ticket = TicketFactory(channel=Channel.INTERNAL, contact=None, by=agent)
    assert ticket.contact is None
    assert ticket.messages.get().kind == Message.Kind.NOTE
    assert not ticket.messages.get().is_public
    assert ticket.owner == agent


def test_create_without_a_contact_for_a_customer_channel_is_refused():
    with pytest.raises(WorkflowError, match="needs a contact"):
        TicketFactory(contact=None, channel=Channel.EMAIL)
    assert not Ticket.objects.exists()


def test_create_with_an_empty_subject_is_refused():
    with pytest.raises(WorkflowError, match="subject"):
        TicketFactory(subject="   ")


def test_priority_comes_from_the_priority_model_for_impact_and_urgency():
    critical = PriorityFactory(name="Critical", rank=4)
    PriorityRuleFactory(impact=Level.HIGH, urgency=Level.HIGH, priority=critical)
    ticket = TicketFactory(impact=Level.HIGH, urgency=Level.HIGH)
    assert ticket.priority == critical


def test_medium_times_medium_is_the_default_when_a_cell_is_missing():
    medium = PriorityRuleFactory().priority
    queue = QueueFactory(default_priority=None)
    ticket = TicketFactory(queue=queue, impact=Level.LOW, urgency=Level.HIGH)
    assert ticket.priority == medium


def test_category_rules_give_owner_team_and_priority_inherited_from_ancestors():
    owner, team = UserFactory(), TeamFactory()
    high = PriorityFactory(name="High", rank=3)
    parent = CategoryFactory(default_owner=owner, default_team=team, default_priority=high)
    child = CategoryFactory(parent=parent)
    ticket = TicketFactory(category=child)
    assert (ticket.owner, ticket.team, ticket.priority) == (owner, team, high)


def test_queue_default_priority_applies_without_other_rules():
    low = PriorityFactory(name="Low", rank=1)
    ticket = TicketFactory(queue=QueueFactory(default_priority=low))
    assert ticket.priority == low


def test_category_outside_the_queue_is_refused():
    queue = QueueFactory()
    queue.categories.add(CategoryFactory(name="Billing"))
    with pytest.raises(WorkflowError, match="does not apply"):
        TicketFactory(queue=queue, category=CategoryFactory(name="Hardware"))


def test_subcategory_of_a_queue_category_is_accepted():
    queue, parent = QueueFactory(), CategoryFactory()
    queue.categories.add(parent)
    child = CategoryFactory(parent=parent)
    assert TicketFactory(queue=queue, category=child).category == child


def test_deadline_and_alert_come_from_the_queue_times_for_the_priority():
    times = QueuePriorityTimeFactory(alert_minutes=30, completion_minutes=240)
    now = timezone.now()
    ticket = TicketFactory(queue=times.queue, priority=times.priority, now=now)
    assert ticket.deadline == now + timedelta(minutes=240)
    assert ticket.alert_at == now + timedelta(minutes=30)


def test_tags_are_created_on_the_fly():
    ticket = TicketFactory(tags=["vip", "outage"])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["outage", "vip"]


# Assigning and changing properties


def test_assign_writes_events_and_marks_unread_for_the_new_owner(ticket, agent):
    colleague, team = UserFactory(), TeamFactory()
    workflow.assign_ticket(ticket, owner=colleague, team=team, by=agent)
    ticket.refresh_from_db()
    assert (ticket.owner, ticket.team, ticket.is_unread) == (colleague, team, True)
    assert Event.objects.filter(ticket=ticket, action="assigned").count() == 2


def test_taking_a_request_yourself_leaves_it_read(ticket, agent):
    workflow.assign_ticket(ticket, owner=agent, by=agent)
    assert not ticket.is_unread


def test_changing_impact_re_derives_the_priority(ticket, agent):
    critical = PriorityFactory(name="Critical", rank=4)
    PriorityRuleFactory(impact=Level.HIGH, urgency=Level.MEDIUM, priority=critical)
    workflow.update_ticket(ticket, impact=Level.HIGH, by=agent)
    assert ticket.priority == critical
    fields = set(Event.objects.filter(ticket=ticket).values_list("field", flat=True))
    assert {"impact", "priority"} <= fields


def test_changing_priority_replans_the_deadline(agent):
    times = QueuePriorityTimeFactory(completion_minutes=60)
    ticket = TicketFactory(queue=times.queue)
    urgent = PriorityFactory(name="Urgent", rank=9)
    QueuePriorityTimeFactory(queue=times.queue, priority=urgent, completion_minutes=15)
    workflow.update_ticket(ticket, priority=urgent, by=agent)
    assert ticket.deadline == ticket.created_at + timedelta(minutes=15)


def test_moving_to_another_queue_keeps_the_state_and_drops_a_foreign_category(ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    other = QueueFactory(stages=["Review"])
    other.categories.add(CategoryFactory())
    workflow.update_ticket(ticket, category=CategoryFactory(), by=agent)
    workflow.update_ticket(ticket, queue=other, by=agent)
    assert ticket.queue == other
    assert ticket.stage.name == "Review"
    assert ticket.category is None


def test_an_unknown_impact_level_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="not a impact level"):
        workflow.update_ticket(ticket, impact="enormous", by=agent)


def test_set_tags_records_old_and_new(ticket, agent):
    workflow.set_tags(ticket, tags=["a", "b"], by=agent)
    workflow.set_tags(ticket, tags=["b"], by=agent)
    event = Event.objects.filter(ticket=ticket, field="tags").last()
    assert (event.old_value, event.new_value) == ("a, b", "b")


def test_an_unchanged_value_writes_no_event(ticket, agent):
    workflow.update_ticket(ticket, subject=ticket.subject, by=agent)
    assert actions(ticket) == ["created"]


def test_edit_request_applies_several_changes_at_once_with_their_events(ticket, agent):
    colleague, urgent = UserFactory(), PriorityFactory(name="Urgent", rank=9)
    workflow.edit_request(
        ticket,
        subject="Printer on fire",
        priority=urgent,
        owner=colleague,
        tags=["fire"],
        seen_at=ticket.updated_at,
        by=agent,
    )
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.owner) == ("Printer on fire", urgent, colleague)
    assert list(ticket.tags.values_list("name", flat=True)) == ["fire"]
    events = Event.objects.filter(ticket=ticket).exclude(action="created")
    assert [(event.action, event.field) for event in events] == [
        ("changed", "subject"),
        ("changed", "priority"),
        ("assigned", "owner"),
        ("changed", "tags"),
    ]


def test_a_refused_edit_request_changes_nothing(ticket, agent):
    subject = ticket.subject
    with pytest.raises(WorkflowError, match="not a impact level"):
        workflow.edit_request(
            ticket, subject="On fire", impact="enormous", owner=agent, tags=["fire"], by=agent
        )
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.owner, ticket.tags.count()) == (subject, None, 0)
    assert actions(ticket) == ["created"]


# Stages


def test_progress_moves_to_the_next_stage_and_stops_before_closed(ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    assert ticket.stage.name == "Triage"
    assert ticket.alert_at is None
    workflow.progress_ticket(ticket, by=agent)
    assert ticket.stage.name == "Investigating"
    with pytest.raises(WorkflowError, match="close it"):
        workflow.progress_ticket(ticket, by=agent)


def test_regress_needs_a_reason_and_keeps_it(ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    with pytest.raises(WorkflowError, match="Say why"):
        workflow.regress_ticket(ticket, reason="  ", by=agent)
    workflow.regress_ticket(ticket, reason="Customer sent new logs", by=agent)
    assert ticket.stage.state == Stage.State.NEW
    event = Event.objects.get(ticket=ticket, action="regressed")
    assert event.reason == "Customer sent new logs"
    assert (event.old_value, event.new_value) == (
        f"{ticket.queue} › Triage",
        f"{ticket.queue} › New",
    )


def test_regress_from_the_first_stage_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="first stage"):
        workflow.regress_ticket(ticket, reason="oops", by=agent)


def test_progressing_a_closed_request_is_refused(ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    with pytest.raises(WorkflowError, match="closed"):
        workflow.progress_ticket(ticket, by=agent)


# Status changes


def test_close_records_resolved_and_moves_to_the_closed_stage(ticket, agent):
    workflow.close_ticket(ticket, resolved=False, by=agent)
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.CLOSED
    assert ticket.stage.state == Stage.State.CLOSED
    assert ticket.resolved is False
    assert ticket.closed_at is not None


def test_close_needs_to_know_whether_it_was_resolved(ticket, agent):
    with pytest.raises(WorkflowError, match="resolved"):
        workflow.close_ticket(ticket, resolved=None, by=agent)


def test_closing_twice_is_refused(ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    with pytest.raises(WorkflowError, match="already closed"):
        workflow.close_ticket(ticket, resolved=True, by=agent)


def test_reactivating_a_closed_request_reopens_it_at_the_stage_before_closed(ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    workflow.reactivate_ticket(ticket, by=agent)
    ticket.refresh_from_db()
    assert ticket.base_status == Status.Base.ACTIVE
    assert ticket.stage.name == "Investigating"
    assert (ticket.closed_at, ticket.resolved) == (None, None)


def test_postpone_until_a_future_time_then_reactivate(ticket, agent):
    until = timezone.now() + timedelta(days=2)
    workflow.postpone_ticket(ticket, until=until, by=agent)
    assert (ticket.base_status, ticket.postponed_until) == (Status.Base.POSTPONED, until)
    workflow.reactivate_ticket(ticket, by=agent)
    assert (ticket.base_status, ticket.postponed_until) == (Status.Base.ACTIVE, None)


def test_postpone_into_the_past_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="future"):
        workflow.postpone_ticket(ticket, until=timezone.now() - timedelta(hours=1), by=agent)


def test_reactivating_an_active_request_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="already active"):
        workflow.reactivate_ticket(ticket, by=agent)


def test_a_custom_status_maps_onto_its_builtin(ticket, agent):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    until = timezone.now() + timedelta(days=1)
    workflow.change_status(ticket, status=waiting, postponed_until=until, by=agent)
    assert (ticket.status, ticket.base_status) == (waiting, Status.Base.POSTPONED)


def test_a_custom_status_of_another_base_is_refused_for_a_step(ticket, agent):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    with pytest.raises(WorkflowError, match="postponed status"):
        workflow.close_ticket(ticket, resolved=True, status=waiting, by=agent)


def test_change_status_to_postponed_needs_a_time(ticket, agent):
    with pytest.raises(WorkflowError, match="until when"):
        workflow.change_status(ticket, status=Status.builtin(Status.Base.POSTPONED), by=agent)


def test_change_status_to_merged_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="merging"):
        workflow.change_status(ticket, status=Status.builtin(Status.Base.MERGED), by=agent)


# Delete and restore


def test_delete_is_soft_and_restore_brings_back_the_previous_status(ticket, agent):
    until = timezone.now() + timedelta(days=1)
    workflow.postpone_ticket(ticket, until=until, by=agent)
    workflow.delete_ticket(ticket, by=agent)
    assert Ticket.objects.filter(pk=ticket.pk, base_status=Status.Base.DELETED).exists()
    with pytest.raises(WorkflowError, match="restore it first"):
        workflow.add_note(ticket, text="hello", by=agent)
    workflow.restore_ticket(ticket, by=agent)
    assert ticket.base_status == Status.Base.POSTPONED


def test_restoring_a_request_that_is_not_deleted_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="not deleted"):
        workflow.restore_ticket(ticket, by=agent)


# Merging


def test_merge_makes_the_request_read_only_and_shows_its_messages_in_the_survivor(agent):
    merged, survivor = TicketFactory(body="first"), TicketFactory(body="second")
    workflow.merge_ticket(merged, into=survivor, by=agent)
    merged.refresh_from_db()
    assert (merged.base_status, merged.merged_into) == (Status.Base.MERGED, survivor)
    bodies = [m.body_text for m in survivor.timeline_messages()]
    assert bodies == ["first", "second"]
    assert Event.objects.filter(ticket=survivor, action="merged_in").exists()
    with pytest.raises(WorkflowError, match="read-only"):
        workflow.progress_ticket(merged, by=agent)
    with pytest.raises(WorkflowError, match="read-only"):
        workflow.add_note(merged, text="late note", by=agent)


def test_merging_into_itself_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="itself"):
        workflow.merge_ticket(ticket, into=ticket, by=agent)


def test_merging_into_a_merged_request_is_refused(agent):
    a, b, c = TicketFactory(), TicketFactory(), TicketFactory()
    workflow.merge_ticket(b, into=c, by=agent)
    with pytest.raises(WorkflowError, match="merge into that"):
        workflow.merge_ticket(a, into=b, by=agent)


def test_merging_into_a_deleted_request_is_refused(agent):
    a, b = TicketFactory(), TicketFactory()
    workflow.delete_ticket(b, by=agent)
    with pytest.raises(WorkflowError, match="deleted"):
        workflow.merge_ticket(a, into=b, by=agent)


def test_requests_merged_earlier_follow_their_survivor(agent):
    a, b, c = TicketFactory(body="a"), TicketFactory(body="b"), TicketFactory(body="c")
    workflow.merge_ticket(a, into=b, by=agent)
    workflow.merge_ticket(b, into=c, by=agent)
    a.refresh_from_db()
    assert a.merged_into == c
    assert [m.body_text for m in c.timeline_messages()] == ["a", "b", "c"]


# Links


def test_links_show_on_both_sides_and_can_be_removed(agent):
    a, b = TicketFactory(), TicketFactory()
    workflow.link_tickets(a, b, by=agent)
    assert list(b.related.all()) == [a]
    assert Event.objects.filter(ticket=b, action="linked").exists()
    workflow.unlink_tickets(b, a, by=agent)
    assert not a.related.exists()


def test_linking_to_itself_or_twice_is_refused(agent):
    a, b = TicketFactory(), TicketFactory()
    with pytest.raises(WorkflowError, match="itself"):
        workflow.link_tickets(a, a, by=agent)
    workflow.link_tickets(a, b, by=agent)
    with pytest.raises(WorkflowError, match="already related"):
        workflow.link_tickets(b, a, by=agent)


# Notes


def test_a_note_is_internal_and_can_be_pinned(ticket, agent):
    note = workflow.add_note(ticket, text="Call back after 3pm", by=agent, pinned=True)
    assert (note.is_public, note.is_pinned, note.kind) == (False, True, Message.Kind.NOTE)
    workflow.pin_note(note, pinned=False, by=agent)
    assert set(actions(ticket)) >= {"note_pinned", "note_unpinned"}


def test_an_empty_note_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="text"):
        workflow.add_note(ticket, text=" ", by=agent)


def test_only_the_latest_note_can_be_deleted_and_only_by_its_author(ticket, agent):
    first = workflow.add_note(ticket, text="first", by=agent)
    latest = workflow.add_note(ticket, text="latest", by=agent)
    with pytest.raises(WorkflowError, match="latest"):
        workflow.delete_note(first, by=agent)
    with pytest.raises(WorkflowError, match="author"):
        workflow.delete_note(latest, by=UserFactory())
    workflow.delete_note(latest, by=agent)
    assert not Message.objects.filter(pk=latest.pk).exists()
    assert Event.objects.get(ticket=ticket, action="note_deleted").old_value == "latest"


def test_a_customer_message_marks_the_request_unread(ticket, agent):
    workflow.assign_ticket(ticket, owner=agent, by=agent)
    assert not ticket.is_unread
    workflow.add_message(
        ticket,
        by=None,
        contact=ticket.contact,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        body_text="Any news?",
    )
    ticket.refresh_from_db()
    assert ticket.is_unread


# History


def test_history_is_append_only(ticket):
    event = Event.objects.get(ticket=ticket)
    event.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(ticket=ticket).update(reason="x")
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(ticket=ticket).delete()


def test_every_step_writes_its_events_in_the_same_transaction(ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    workflow.postpone_ticket(ticket, until=timezone.now() + timedelta(hours=1), by=agent)
    workflow.reactivate_ticket(ticket, by=agent)
    workflow.close_ticket(ticket, resolved=True, by=agent)
    workflow.delete_ticket(ticket, by=agent)
    workflow.restore_ticket(ticket, by=agent)
    assert actions(ticket) == [
        "created",
        "progressed",
        "status_changed",
        "postponed",
        "status_changed",
        "changed",
        "closed",
        "status_changed",
        "closed",
        "closed",
        "status_changed",
        "deleted",
        "status_changed",
        "restored",
    ]
    assert set(
        Event.objects.filter(ticket=ticket)
        .exclude(action="created")
        .values_list("actor", flat=True)
    ) == {agent.pk}


def test_the_first_message_keeps_the_headers_it_arrived_with():
    ticket = TicketFactory(
        subject="Printer",
        message_headers={
            "subject": "Re: Printer (was: toner)",
            "from_address": "Dana <dana@example.test>",
            "message_id": "<first@example.test>",
        },
    )
    message = ticket.messages.get()
    assert (message.subject, message.from_address, message.message_id) == (
        "Re: Printer (was: toner)",
        "Dana <dana@example.test>",
        "<first@example.test>",
    )
    assert ticket.subject == "Printer"
