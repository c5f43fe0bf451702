"""A process ticket in a real browser, through portal and desk: the customer starts "New
employee laptop" on the portal and says who and when, the IT agent picks the hardware
and approves it, the customer confirms the delivery, and both see the process finished.
Screenshots land in /tmp/process_*.png for people to look at."""

import re

import pytest
from playwright.sync_api import expect

from processes.management.commands.seed_processes import STEPS
from processes.models import ProcessRun, ProcessStep
from tests.factories import (
    PASSWORD,
    PortalContactFactory,
    PriorityRuleFactory,
    ProcessFactory,
    ProcessStepFactory,
    QueueFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def shot(page, name):
    page.screenshot(path=f"/tmp/process_{name}.png", full_page=True)


def test_a_laptop_process_runs_through_portal_and_desk(browser, live_server, page):
    PriorityRuleFactory()
    agent = UserFactory(first_name="Alice", last_name="Agent")
    team = TeamFactory(name="IT")
    agent.groups.add(team)
    queue = QueueFactory(name="Support", stages=["Triage"], is_open_to_portal=True)
    queue.members.add(agent)
    process = ProcessFactory(name="New employee laptop", queue=queue)
    for position, spec in enumerate(STEPS, start=1):
        is_team = spec["actor"] == ProcessStep.Actor.TEAM
        ProcessStepFactory(
            process=process, position=position, team=team if is_team else None, **spec
        )
    customer = PortalContactFactory(name="Carla Customer", email="carla@example.test")
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))

    # The customer starts the process on the portal and does the first step.
    page.goto("/portal/sign-in/")
    page.fill("input[name=email]", customer.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Processes").click()
    page.get_by_role("button", name="Start New employee laptop").click()
    page.wait_for_url(re.compile(r"/portal/requests/Q\d+-\d+/$"))
    card = page.locator("#process")
    expect(card).to_contain_text("step 1 of 3: Who and when")
    card.locator("input[name=employee]").fill("Nina New")
    card.locator("input[name=start_date]").fill("2025-09-01")
    card.locator("select[name=role]").select_option("Developer")
    shot(page, "1_portal_first_step")
    card.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thank you: your answers are recorded.")).to_be_visible()
    expect(card).to_contain_text("step 2 of 3: Hardware choice")
    run = ProcessRun.objects.get()
    number = run.ticket.number

    # The IT agent chooses the hardware on the desk and approves it.
    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    desk = desk.new_page()
    desk.goto("/accounts/login/")
    desk.fill("input[name=username]", agent.get_username())
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/desk/**")
    desk.goto(f"/desk/requests/{number}/")
    desk_card = desk.locator("#process")
    expect(desk_card).to_contain_text("Nina New")
    desk_card.locator("select[name=model]").select_option(label="ThinkPad X1 Carbon")
    desk_card.locator("textarea[name=accessories]").fill("USB-C dock")
    desk_card.get_by_role("button", name="Submit for approval").click()
    expect(desk.get_by_text("Step 2 — Hardware choice is submitted for approval.")).to_be_visible()
    expect(desk.get_by_text("Model: ThinkPad X1 Carbon").first).to_be_visible()  # the note
    shot(desk, "2_desk_awaiting_approval")
    desk_card.get_by_role("button", name="Approve Hardware choice").click()
    expect(desk.get_by_text("Step 2 — Hardware choice is approved.")).to_be_visible()
    expect(desk_card).to_contain_text("step 3 of 3: Confirm delivery")

    # The customer confirms the delivery.
    page.reload()
    expect(card).to_contain_text("step 3 of 3: Confirm delivery")
    assert "ThinkPad" not in card.inner_text()  # the agent's answers stay internal
    card.get_by_label("Yes").check()
    card.get_by_role("button", name="Send").click()
    expect(card).to_contain_text("finished")
    shot(page, "3_portal_finished")

    desk.reload()
    expect(desk_card).to_contain_text("finished")
    shot(desk, "4_desk_finished")
    desk.context.close()
    run.refresh_from_db()
    assert run.state == ProcessRun.State.FINISHED
    assert blocked == []
