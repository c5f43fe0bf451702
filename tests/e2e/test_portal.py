"""The customer portal in a real browser: a visitor signs up, confirms the address, opens a
request with a file, is acknowledged (through a real SMTP server), reads the answer an
agent wrote in the desk and closes the request.
Screenshots land in var/screenshots/portal-*.png for people to look at."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import (
    PASSWORD,
    PriorityRuleFactory,
    QueueFactory,
    ReplyTemplateFactory,
    UserFactory,
)
from tickets.models import Contact, ReplyTemplate, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"portal-{name}.png", full_page=True)


def link_in(text: str) -> str:
    return re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", text)[0])


def test_a_visitor_signs_up_opens_a_request_reads_the_answer_and_closes_it(
    browser, live_server, page, tmp_path, smtp_sink
):
    PriorityRuleFactory()
    agent = UserFactory(first_name="Alice", last_name="Agent")
    queue = QueueFactory(name="Support", stages=["Triage"], is_open_to_portal=True)
    queue.members.add(agent)
    ReplyTemplateFactory(
        purpose=ReplyTemplate.Purpose.ACKNOWLEDGEMENT,
        subject="We received {number}",
        body="Hello {contact_name}, we are on it: {portal_link}",
    )
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))

    page.goto("/portal/sign-in/")
    shot(page, "1-sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.fill("input[name=name]", "Vera Visitor")
    page.fill("input[name=email]", "vera@example.test")
    page.fill("input[name=password1]", "a-long-portal-passphrase")
    page.fill("input[name=password2]", "a-long-portal-passphrase")
    shot(page, "2-sign-up")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    (verification,) = smtp_sink.wait_for(1)
    page.goto(link_in(verification.get_content()))
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    page.get_by_role("link", name="New request").first.click()
    page.select_option("select[name=queue]", label="Support")
    page.fill("input[name=subject]", "The invoice total is wrong")
    page.fill("textarea[name=body]", "Invoice 42 charges twice for the same licence.")
    attachment = tmp_path / "invoice-42.pdf"
    attachment.write_bytes(b"%PDF-1.4 invoice")
    page.set_input_files("input[name=attachments]", attachment)
    shot(page, "3-new-request")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/portal/requests/Q\d+-\d+/$"))

    ticket = Ticket.objects.get(subject="The invoice total is wrong")
    assert ticket.contact == Contact.objects.get(email="vera@example.test")
    acknowledgement = smtp_sink.wait_for(2)[-1]
    assert acknowledgement["To"] == "vera@example.test"
    assert f"We received {ticket.number}" in acknowledgement["Subject"]
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    expect(page.get_by_role("link", name="invoice-42.pdf")).to_be_visible()

    # The agent answers in the desk, in a browser of their own.
    desk = browser.new_context(base_url=live_server.url).new_page()
    desk.goto("/accounts/login/")
    desk.fill("input[name=username]", agent.get_username())
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/desk/**")  # signed in before the next page is asked for
    desk.goto(f"/desk/requests/{ticket.number}/")
    desk.locator("button[data-bs-target='#panel-reply']").click()
    desk.fill("#panel-reply textarea[name=body]", "Sorry! A corrected invoice follows.")
    desk.get_by_role("button", name="Send reply").click()
    expect(desk.locator(".alert-success")).to_be_visible()
    answer = smtp_sink.wait_for(3)[-1]
    assert answer["To"] == "vera@example.test" and ticket.number in answer["Subject"]
    desk.context.close()

    page.reload()
    expect(page.get_by_text("Sorry! A corrected invoice follows.")).to_be_visible()
    shot(page, "4-request-with-answer")

    page.get_by_role("button", name="Close as resolved").click()
    expect(page.get_by_text(f"{ticket.number} is closed. Thank you!")).to_be_visible()
    shot(page, "5-closed")
    ticket.refresh_from_db()
    assert (ticket.base_status, ticket.resolved) == (Status.Base.CLOSED, True)

    page.goto("/portal/requests/")
    expect(page.get_by_role("link", name=ticket.number)).to_be_visible()
    shot(page, "6-my-requests")
    assert blocked == []
