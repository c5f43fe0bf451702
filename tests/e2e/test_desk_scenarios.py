"""The desk in a real browser: scenario 2 end to end, a regression that needs its reason,
and a bulk assignment. Screenshots land in var/screenshots/ for people to look at."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from playwright.sync_api import expect

from tests.factories import (
    PriorityRuleFactory,
    QueueFactory,
    ReplyTemplateFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Channel, Contact, Message, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def desk(sign_in):
    """An agent of the Support queue, signed in."""
    PriorityRuleFactory()
    agent = UserFactory(first_name="Alice", last_name="Agent", email="alice@helpdesk.test")
    queue = QueueFactory(
        name="Support", stages=["Triage", "Investigating"], email_address="support@helpdesk.test"
    )
    queue.members.add(agent)
    page = sign_in(agent)
    return page, agent, queue


def test_scenario_2_phone_request_for_a_new_contact_replied_with_a_template_and_closed(desk):
    page, agent, queue = desk
    ReplyTemplateFactory(
        queue=queue, name="Callback", body="Hello {contact_name},\nwe fixed {number}.\n{agent_name}"
    )
    page.goto("/desk/requests/new/")
    page.select_option("select[name=queue]", str(queue.pk))
    page.fill("input[name=new-name]", "Petra Phone")
    page.fill("input[name=new-email]", "petra@example.test")
    page.fill("input[name=subject]", "Laptop will not charge")
    page.fill("textarea[name=body]", "Petra called: the charger light stays off.")
    shot(page, "scenario2-1-new-request")
    page.get_by_role("button", name="Register request").click()
    page.wait_for_url(re.compile(r"/desk/requests/Q\d+-\d+/$"))

    ticket = Ticket.objects.get(subject="Laptop will not charge")
    contact = Contact.objects.get(email="petra@example.test")
    first = ticket.messages.get()
    assert (ticket.channel, ticket.contact, first.author_contact) == (
        Channel.PHONE,
        contact,
        contact,
    )
    assert mail.outbox == []  # a phone request sends nothing

    page.locator("button[data-bs-target='#panel-reply']").click()
    page.get_by_role("button", name="Reply template").click()
    page.get_by_role("button", name="Callback").click()
    body = page.locator("#panel-reply textarea[name=body]")
    expect(body).to_have_value(re.compile(r"Hello Petra Phone,\nwe fixed"))
    shot(page, "scenario2-2-reply")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()

    reply = ticket.messages.get(direction=Message.Direction.OUTBOUND)
    assert f"we fixed {ticket.number}" in reply.body_text
    (sent,) = mail.outbox
    assert sent.to == ["petra@example.test"]
    assert ticket.number in sent.subject

    page.locator("button[data-bs-target='#panel-close']").click()
    page.get_by_label("Yes, resolved").check()
    page.locator("#panel-close button[type=submit]").click()
    page.wait_for_load_state()
    shot(page, "scenario2-3-closed")

    ticket.refresh_from_db()
    assert (ticket.base_status, ticket.resolved) == (Status.Base.CLOSED, True)
    assert ticket.replied_at is not None
    assert page.locator(".badge", has_text="Closed").first.is_visible()


def test_regressing_asks_for_a_reason_and_shows_it_beside_the_progress_bar(desk):
    page, agent, queue = desk
    ticket = TicketFactory(queue=queue, by=agent, channel=Channel.PHONE)
    workflow.progress_ticket(ticket, by=agent)
    workflow.progress_ticket(ticket, by=agent)
    page.goto(f"/desk/requests/{ticket.number}/")

    page.locator("button[data-bs-target='#panel-regress']").click()
    reason = page.locator("#panel-regress textarea[name=reason]")
    page.get_by_role("button", name="Move back").click()
    # The browser itself refuses the empty reason before anything is sent.
    assert reason.evaluate("el => el.validationMessage") != ""
    ticket.refresh_from_db()
    assert ticket.stage.name == "Investigating"

    reason.fill("Customer sent a new error log")
    page.get_by_role("button", name="Move back").click()
    page.wait_for_load_state()
    shot(page, "regress-with-reason")
    ticket.refresh_from_db()
    assert ticket.stage.name == "Triage"
    assert page.get_by_text("Customer sent a new error log").first.is_visible()


def test_bulk_assign_gives_the_selected_requests_to_a_colleague(desk):
    page, agent, queue = desk
    colleague = UserFactory(first_name="Bob", last_name="Builder")
    queue.members.add(colleague)
    chosen = [TicketFactory(queue=queue, subject=f"Bulk {n}") for n in range(2)]
    untouched = TicketFactory(queue=queue, subject="Leave me be")
    page.goto("/desk/requests/")
    for ticket in chosen:
        page.check(f"input.ticket-select[value='{ticket.pk}']")
    page.locator("label[for=bulk-action-assign]").click()
    page.select_option("#bulk-assign select[name=owner]", str(colleague.pk))
    shot(page, "bulk-assign")
    page.get_by_role("button", name="Assign the selected").click()
    page.wait_for_load_state()

    assert {t.owner_id for t in Ticket.objects.filter(pk__in=[t.pk for t in chosen])} == {
        colleague.pk
    }
    untouched.refresh_from_db()
    assert untouched.owner_id is None
    assert page.locator(".alert-success").first.is_visible()


def test_searching_from_the_navbar_shows_marked_matches_and_a_number_jumps(desk):
    page, agent, queue = desk
    found = TicketFactory(
        queue=queue, subject="Printer on floor 3", body="Jürgen Müller says it jams again."
    )
    TicketFactory(queue=queue, subject="VPN drops", body="Every hour.")
    TicketFactory(queue=QueueFactory(name="Billing"), subject="Printer invoice", body="Müller")
    search = page.get_by_role("searchbox", name="Search requests")
    search.fill("Müller print*")
    search.press("Enter")
    page.wait_for_load_state()
    rows = page.locator("tr.ticket-row")
    expect(rows).to_have_count(1)  # the Billing queue's request is not the agent's
    expect(rows.first).to_contain_text("Printer on floor 3")
    if connection.vendor == "postgresql":  # marks and snippets come from full-text search
        expect(rows.first.locator("a mark")).to_have_text("Printer")
        expect(rows.first.locator(".search-snippet mark").first).to_have_text("Müller")
    shot(page, "desk-search")
    search = page.get_by_role("searchbox", name="Search requests")
    search.fill(found.number)
    search.press("Enter")
    expect(page).to_have_url(re.compile(f"/desk/requests/{found.number}/$"))
