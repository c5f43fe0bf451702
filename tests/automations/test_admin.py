"""The admin: rules written with forms that say what is missing, broken rules shown as
broken, the dry run, and the agents' read-only list."""

import pytest

from automations.models import Action, Condition, Rule, Trigger
from tests.factories import (
    ActionFactory,
    AdminFactory,
    ConditionFactory,
    PriorityFactory,
    QueueFactory,
    RuleFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def formset(prefix, rows):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{key}": value for key, value in row.items()})
    return data


def add_rule(admin_client, conditions=(), actions=(), **fields):
    data = {"name": "VIP", "order": "10", "trigger": Trigger.CREATED, "match_all": "on", **fields}
    data |= formset("conditions", conditions) | formset("actions", actions)
    return admin_client.post("/admin/automations/rule/add/", data)


def test_an_admin_writes_a_rule(admin_client, queue):
    urgent = PriorityFactory(name="Urgent", rank=4)
    answer = add_rule(
        admin_client,
        conditions=[{"field": "queue", "operator": "is", "queue": queue.pk}],
        actions=[{"kind": "set_priority", "priority": urgent.pk, "order": "0"}],
    )
    assert answer.status_code == 302
    rule = Rule.objects.get()
    assert (rule.conditions.get().queue, rule.actions.get().priority) == (queue, urgent)
    assert rule.is_active is False  # switched on after a dry run


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        ({"field": "queue", "operator": "is"}, "Choose the queue to compare with."),
        (
            {"field": "subject", "operator": "contains"},
            "Write the text the subject is compared with.",
        ),
        ({"field": "queue", "operator": "contains"}, "does not apply to the queue"),
    ],
)
def test_a_condition_missing_its_value_is_a_form_error(admin_client, condition, error):
    answer = add_rule(admin_client, conditions=[condition])
    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert not Rule.objects.exists()


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ({"kind": "set_priority"}, "Choose the priority."),
        ({"kind": "webhook", "url": "ftp://files.example/", "secret": "x"}, "Only http and https"),
        ({"kind": "webhook", "url": "https://hooks.example/in"}, "Give a secret"),
        ({"kind": "send_email"}, "Choose the reply template"),
        ({"kind": "add_note"}, "Write the note"),
    ],
)
def test_an_action_missing_what_it_needs_is_a_form_error(admin_client, action, error):
    answer = add_rule(admin_client, actions=[{"order": "0", **action}])
    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert not Rule.objects.exists()


def test_a_time_rule_needs_its_basis(admin_client):
    answer = add_rule(admin_client, trigger="time")
    assert "A time-based rule needs its basis and hours" in answer.content.decode()
    assert not Rule.objects.exists()


def test_a_broken_rule_is_shown_as_broken_never_an_error(admin_client, agent):
    gone = QueueFactory(name="Retired")
    rule = RuleFactory(name="Old routing", is_active=True)
    ConditionFactory(rule=rule, field=Condition.Field.QUEUE, operator="is", queue=gone)
    gone.delete()
    listing = admin_client.get("/admin/automations/rule/")
    assert listing.status_code == 200
    assert "Broken" in listing.content.decode()
    change = admin_client.get(f"/admin/automations/rule/{rule.pk}/change/", follow=True)
    assert change.status_code == 200
    assert "Broken, skipped until fixed" in change.content.decode()
    desk = admin_client.get("/desk/automations/rules/")
    assert "The queue it compares with no longer exists." in desk.content.decode()


def test_the_dry_run_lists_what_matches_now(admin_client, queue, agent):
    rule = RuleFactory(name="Printers")
    ConditionFactory(rule=rule, field="subject", operator="contains", value="printer")
    ConditionFactory(rule=rule, field="priority", operator="changed")
    hit = TicketFactory(queue=queue, by=agent, subject="Printer jams")
    TicketFactory(queue=queue, by=agent, subject="VPN down")
    answer = admin_client.post(
        "/admin/automations/rule/", {"action": "dry_run", "_selected_action": [rule.pk]}
    )
    page = answer.content.decode()
    assert "<strong>1</strong> open request matches now" in page
    assert hit.number in page
    assert "Left out, as only a change can answer them: priority changed" in page
    assert not rule.runs.exists()


def test_a_broken_rule_cannot_be_switched_on(admin_client):
    template_action = ActionFactory(
        rule=RuleFactory(name="Mail", is_active=False), kind=Action.Kind.SEND_EMAIL
    )
    answer = admin_client.post(
        "/admin/automations/rule/",
        {"action": "switch_on", "_selected_action": [template_action.rule_id]},
        follow=True,
    )
    assert "Fix these first, they are broken: Mail." in answer.content.decode()
    assert not Rule.objects.get().is_active


def test_the_agents_rule_list_has_a_constant_query_count(
    agent_client, django_assert_max_num_queries
):
    def make(count):
        for n in range(count):
            rule = RuleFactory()
            ConditionFactory(rule=rule, field="subject", operator="contains", value=str(n))
            ActionFactory(rule=rule, kind="add_note", value="x")

    make(2)
    with django_assert_max_num_queries(8) as few:
        agent_client.get("/desk/automations/rules/")
    make(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = agent_client.get("/desk/automations/rules/")
    assert page.content.decode().count("contains") >= 22
