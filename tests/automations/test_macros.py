"""Macros: an agent runs a bundle of actions on the request page or on the list's ticked
requests; all of a macro's actions happen, or none."""

import pytest

from automations.models import Action
from tests.factories import (
    ActionFactory,
    CategoryFactory,
    MacroFactory,
    QueueFactory,
    ReplyTemplateFactory,
    TicketFactory,
)
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
K = Action.Kind


@pytest.fixture
def refund():
    macro = MacroFactory(name="Refund")
    ActionFactory(
        macro=macro, order=1, kind=K.SET_CATEGORY, category=CategoryFactory(name="Billing")
    )
    ActionFactory(
        macro=macro,
        order=2,
        kind=K.SEND_EMAIL,
        recipient="contact",
        template=ReplyTemplateFactory(body="Your refund for {number} is on its way."),
    )
    ActionFactory(macro=macro, order=3, kind=K.CLOSE_RESOLVED)
    return macro


def test_the_request_page_offers_the_queues_macros(agent_client, queue, agent, refund):
    MacroFactory(name="Elsewhere").queues.add(QueueFactory())
    ticket = TicketFactory(queue=queue, by=agent)
    panel = agent_client.get(f"/desk/automations/requests/{ticket.number}/macros/")
    assert b"Refund" in panel.content
    assert b"Elsewhere" not in panel.content


def test_running_a_macro_does_its_actions_in_the_agents_name(agent_client, queue, agent, refund):
    ticket = TicketFactory(queue=queue, by=agent)
    answer = agent_client.post(
        f"/desk/automations/requests/{ticket.number}/macros/{refund.pk}/", follow=True
    )
    assert "Refund: category → Billing; email to" in answer.content.decode()
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.category.name, ticket.base_status, ticket.resolved) == (
        "Billing",
        "closed",
        True,
    )
    closing = ticket.events.get(action="closed", field="resolved")
    assert (closing.actor, closing.via) == (agent, "macro “Refund”")
    assert (
        "is on its way"
        in ticket.messages.filter(direction=Message.Direction.OUTBOUND).get().body_text
    )


def test_a_macro_the_workflow_refuses_changes_nothing(agent_client, queue, agent, refund):
    ticket = TicketFactory(
        queue=queue, by=agent, contact=None, channel="internal", subject="Internal"
    )
    answer = agent_client.post(
        f"/desk/automations/requests/{ticket.number}/macros/{refund.pk}/", follow=True
    )
    assert "Refund was not run" in answer.content.decode()
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.category is None  # its first action was undone with the rest
    assert ticket.base_status == "active"


def test_a_macro_on_a_request_outside_the_agents_queues_is_404(client, agent, refund):
    from tests.factories import UserFactory

    ticket = TicketFactory(queue=QueueFactory(), by=agent)
    client.force_login(UserFactory())
    assert (
        client.post(f"/desk/automations/requests/{ticket.number}/macros/{refund.pk}/").status_code
        == 404
    )


def test_a_macro_on_the_ticked_requests(agent_client, queue, agent, refund):
    first, second = TicketFactory(queue=queue, by=agent), TicketFactory(queue=queue, by=agent)
    internal = TicketFactory(queue=queue, by=agent, contact=None, channel="internal")
    answer = agent_client.post(
        "/desk/automations/macros/bulk/",
        {"macro": refund.pk, "tickets": [first.pk, second.pk, internal.pk], "query": "open=1"},
        follow=True,
    )
    page = answer.content.decode()
    assert "Refund ran on 2 requests." in page
    assert f"{internal.number}:" in page
    assert set(Ticket.objects.filter(base_status="closed").values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }


def test_bulk_without_a_macro_or_requests_says_what_is_missing(agent_client, queue, agent, refund):
    ticket = TicketFactory(queue=queue, by=agent)
    answer = agent_client.post(
        "/desk/automations/macros/bulk/", {"tickets": [ticket.pk]}, follow=True
    )
    assert "Choose the macro to run." in answer.content.decode()
    answer = agent_client.post("/desk/automations/macros/bulk/", {"macro": refund.pk}, follow=True)
    assert "Select at least one request first." in answer.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).base_status == "active"
