"""Conditions judged on a request and on the change that fired the trigger, and the same
conditions as a query (the dry run and the time-based sweep): both must agree."""

import pytest

from automations import conditions, engine
from automations.conditions import Facts
from automations.models import Condition
from tests.factories import (
    CategoryFactory,
    CompanyFactory,
    ConditionFactory,
    ContactFactory,
    CustomFieldFactory,
    PriorityFactory,
    RuleFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
)
from tickets import workflow
from tickets.models import DomainEvent, Ticket

pytestmark = pytest.mark.django_db
F, Op = Condition.Field, Condition.Operator


def judged(ticket, event=None, **condition) -> bool:
    rule = RuleFactory()
    made = ConditionFactory(rule=rule, **condition)
    return conditions.holds(made, Facts.load(ticket.pk, event))


def test_queue_is_and_is_not(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    assert judged(ticket, field=F.QUEUE, operator=Op.IS, queue=queue)
    assert not judged(ticket, field=F.QUEUE, operator=Op.IS_NOT, queue=queue)


def test_category_matches_its_subtree(queue, agent):
    hardware = CategoryFactory(name="Hardware")
    printers = CategoryFactory(name="Printers", parent=hardware)
    software = CategoryFactory(name="Software")
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.update_ticket(ticket, category=printers, by=agent)
    assert judged(ticket, field=F.CATEGORY, operator=Op.IS, category=hardware)
    assert judged(ticket, field=F.CATEGORY, operator=Op.IS, category=printers)
    assert not judged(ticket, field=F.CATEGORY, operator=Op.IS, category=software)


def test_tags_contains_and_is_empty(queue, agent):
    vip = TagFactory(name="vip")
    ticket = TicketFactory(queue=queue, by=agent)
    assert judged(ticket, field=F.TAGS, operator=Op.IS_EMPTY)
    workflow.set_tags(ticket, tags=[vip], by=agent)
    assert judged(ticket, field=F.TAGS, operator=Op.CONTAINS, tag=vip)
    assert not judged(ticket, field=F.TAGS, operator=Op.NOT_CONTAINS, tag=vip)


def test_text_fields_compare_without_case(queue, agent):
    company = CompanyFactory(name="Acme")
    contact = ContactFactory(email="Ann@Acme.example", company=company)
    ticket = TicketFactory(queue=queue, by=agent, contact=contact, subject="Printer on FIRE")
    assert judged(ticket, field=F.SUBJECT, operator=Op.CONTAINS, value="fire")
    assert judged(ticket, field=F.CONTACT, operator=Op.CONTAINS, value="@acme.example")
    assert judged(ticket, field=F.CHANNEL, operator=Op.ONE_OF, value="phone, email")
    assert judged(ticket, field=F.COMPANY, operator=Op.IS, company=company)
    assert not judged(ticket, field=F.BASE_STATUS, operator=Op.IS, value="closed")


def test_body_reads_the_message_the_trigger_is_about(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent, body="Nothing special.")
    note = workflow.add_note(ticket, text="Customer asks for a REFUND", by=agent)
    event = DomainEvent(name="note_added", ticket=ticket, payload={"message": note.pk})
    assert judged(ticket, event, field=F.BODY, operator=Op.CONTAINS, value="refund")
    assert not judged(ticket, field=F.BODY, operator=Op.CONTAINS, value="nothing special")


def test_custom_field_value(queue, agent):
    plan = CustomFieldFactory(key="plan")
    ticket = TicketFactory(queue=queue, by=agent)
    assert judged(ticket, field=F.CUSTOM_FIELD, operator=Op.IS_EMPTY, custom_field=plan)
    workflow.update_ticket(ticket, custom_fields={"plan": "Gold"}, by=agent)
    assert judged(ticket, field=F.CUSTOM_FIELD, operator=Op.IS, custom_field=plan, value="gold")


def test_changed_from_and_to_read_the_update_event(queue, agent):
    low, high = PriorityFactory(name="Low", rank=1), PriorityFactory(name="High", rank=3)
    team = TeamFactory(name="Tier 2")
    RuleFactory(trigger="updated")  # an active rule on updates: the events are kept
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.update_ticket(ticket, priority=low, by=agent)
    workflow.edit_request(ticket, priority=high, team=team, by=agent)
    updated = DomainEvent.objects.filter(ticket=ticket, name="updated").latest("pk")
    assert judged(ticket, updated, field=F.PRIORITY, operator=Op.CHANGED_FROM, priority=low)
    assert judged(ticket, updated, field=F.PRIORITY, operator=Op.CHANGED_TO, priority=high)
    assert judged(ticket, updated, field=F.TEAM, operator=Op.CHANGED_TO, team=team)
    assert not judged(ticket, updated, field=F.QUEUE, operator=Op.CHANGED)


def test_a_tag_changed_to_means_it_was_added(queue, agent):
    vip, spam = TagFactory(name="vip"), TagFactory(name="spam")
    RuleFactory(trigger="updated")
    ticket = TicketFactory(queue=queue, by=agent)
    workflow.set_tags(ticket, tags=[spam], by=agent)
    workflow.set_tags(ticket, tags=[spam, vip], by=agent)
    updated = DomainEvent.objects.filter(ticket=ticket, name="updated").latest("pk")
    assert judged(ticket, updated, field=F.TAGS, operator=Op.CHANGED_TO, tag=vip)
    assert not judged(ticket, updated, field=F.TAGS, operator=Op.CHANGED_TO, tag=spam)


def test_an_any_rule_needs_one_condition(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent, subject="Invoice wrong")
    rule = RuleFactory(match_all=False)
    ConditionFactory(rule=rule, field=F.SUBJECT, operator=Op.CONTAINS, value="refund")
    held = ConditionFactory(rule=rule, field=F.SUBJECT, operator=Op.CONTAINS, value="invoice")
    assert conditions.matches(rule, Facts.load(ticket.pk)) == [held]
    rule.match_all = True
    assert conditions.matches(rule, Facts.load(ticket.pk)) is None


@pytest.mark.parametrize(
    "condition",
    [
        {"field": F.SUBJECT, "operator": Op.CONTAINS, "value": "printer"},
        {"field": F.SUBJECT, "operator": Op.NOT_CONTAINS, "value": "printer"},
        {"field": F.CHANNEL, "operator": Op.ONE_OF, "value": "phone,portal"},
        {"field": F.CONTACT, "operator": Op.IS_NOT, "value": "ann@acme.example"},
        {"field": F.BODY, "operator": Op.CONTAINS, "value": "toner"},
        {"field": F.TAGS, "operator": Op.IS_SET},
        {"field": F.OWNER, "operator": Op.IS_EMPTY},
        {"field": F.CUSTOM_FIELD, "operator": Op.IS_SET},
        {"field": F.CATEGORY, "operator": Op.IS},
    ],
)
def test_the_query_finds_what_the_judge_says(queue, agent, condition):
    plan = CustomFieldFactory(key="plan")
    hardware = CategoryFactory(name="Hardware")
    printers = CategoryFactory(name="Printers", parent=hardware)
    ann = ContactFactory(email="ann@acme.example")
    made = [
        TicketFactory(queue=queue, by=agent, subject="Printer jams", body="Out of toner"),
        TicketFactory(queue=queue, by=agent, subject="VPN", contact=ann, channel="phone"),
        TicketFactory(queue=queue, by=agent, subject="Laptop", channel="portal"),
    ]
    workflow.set_tags(made[0], tags=["hardware"], by=agent)
    workflow.update_ticket(made[1], custom_fields={"plan": "Gold"}, category=printers, by=agent)
    workflow.assign_ticket(made[2], owner=agent, by=agent)
    extra = {"custom_field": plan} if condition["field"] == F.CUSTOM_FIELD else {}
    if condition["field"] == F.CATEGORY:
        extra = {"category": hardware}
    rule = RuleFactory()
    made_condition = ConditionFactory(rule=rule, **condition, **extra)
    by_judge = {t.pk for t in made if conditions.holds(made_condition, Facts.load(t.pk))}
    by_query = set(
        Ticket.objects.filter(engine.to_q(rule).q, pk__in=[t.pk for t in made]).values_list(
            "pk", flat=True
        )
    )
    assert by_query == by_judge
    assert 0 < len(by_judge) < 3  # the case tells something


def test_a_condition_whose_queue_is_deleted_is_a_problem(agent):
    from tests.factories import QueueFactory

    gone = QueueFactory(name="Old queue")
    condition = ConditionFactory(rule=RuleFactory(), field=F.QUEUE, operator=Op.IS, queue=gone)
    gone.delete()
    condition.refresh_from_db()
    assert "no longer exists" in conditions.problem(condition)
