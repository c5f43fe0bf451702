"""Automations in a real browser: a rule acting on a request an agent registers, and a
macro run from the request page's macro panel."""

import re

import pytest
from playwright.sync_api import expect

from automations.models import Action, Condition, Trigger
from tests.e2e.test_desk_scenarios import shot
from tests.factories import (
    ActionFactory,
    CategoryFactory,
    ConditionFactory,
    MacroFactory,
    PriorityFactory,
    PriorityRuleFactory,
    QueueFactory,
    ReplyTemplateFactory,
    RuleFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(sign_in):
    PriorityRuleFactory()
    agent = UserFactory(first_name="Alice", last_name="Agent", email="alice@helpdesk.test")
    queue = QueueFactory(name="Support", stages=["Triage"], email_address="support@helpdesk.test")
    queue.members.add(agent)
    return sign_in(agent), agent, queue


def test_a_rule_makes_an_outage_critical_and_the_history_names_it(desk):
    page, agent, queue = desk
    critical = PriorityFactory(name="Critical", rank=4)
    rule = RuleFactory(name="An outage is critical", trigger=Trigger.CREATED)
    ConditionFactory(rule=rule, field=Condition.Field.SUBJECT, operator="contains", value="outage")
    ActionFactory(rule=rule, kind=Action.Kind.SET_PRIORITY, priority=critical)
    page.goto("/desk/requests/new/")
    page.select_option("select[name=queue]", str(queue.pk))
    page.fill("input[name=new-name]", "Olga Office")
    page.fill("input[name=new-email]", "olga@example.test")
    page.fill("input[name=subject]", "Email outage on floor 2")
    page.fill("textarea[name=body]", "Nobody on floor 2 gets mail.")
    page.get_by_role("button", name="Register request").click()
    page.wait_for_url(re.compile(r"/desk/requests/[^/]+/$"))
    page.reload()  # the rule ran after the commit, as the page was sent
    expect(page.get_by_text("rule “An outage is critical”").first).to_be_visible()
    assert Ticket.objects.get(subject="Email outage on floor 2").priority == critical
    shot(page, "automations-1-rule-in-history")


def test_an_agent_runs_a_macro_from_the_request_page(desk):
    page, agent, queue = desk
    macro = MacroFactory(name="Refund", description="Billing, the refund reply, close")
    ActionFactory(
        macro=macro,
        order=1,
        kind=Action.Kind.SET_CATEGORY,
        category=CategoryFactory(name="Billing"),
    )
    ActionFactory(
        macro=macro,
        order=2,
        kind=Action.Kind.SEND_EMAIL,
        recipient="contact",
        template=ReplyTemplateFactory(body="Your refund for {number} is on its way."),
    )
    ActionFactory(macro=macro, order=3, kind=Action.Kind.CLOSE_RESOLVED)
    ticket = TicketFactory(queue=queue, by=agent, subject="Charged twice")
    page.goto(f"/desk/requests/{ticket.number}/")
    page.get_by_role("button", name="Macros").click()
    button = page.get_by_role("button", name="Refund")
    expect(button).to_be_visible()
    shot(page, "automations-2-macro-panel")
    button.click()
    expect(page.get_by_text("Refund: category → Billing")).to_be_visible()
    shot(page, "automations-3-macro-done")
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.base_status, ticket.resolved, ticket.category.name) == (
        "closed",
        True,
        "Billing",
    )
