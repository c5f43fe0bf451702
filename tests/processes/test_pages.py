"""The process card on the desk's and the portal's request pages, its forms and approval,
and the pages that start a process."""

import pytest

from processes import runs
from processes.models import ProcessRun
from tests.conftest import LOOKUP_QUERIES
from tests.factories import PortalContactFactory, QueueFactory, TicketFactory, UserFactory
from tests.processes.conftest import HARDWARE, WHO, step

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def card_url(run):
    return f"/desk/processes/requests/{run.ticket.number}/"


def at_step_two(run, customer):
    runs.submit_step(run, step(run, 1), WHO, contact=customer)
    return run


def test_the_desk_card_shows_the_done_steps_and_the_teams_form(
    agent_client, run, customer, django_assert_max_num_queries
):
    at_step_two(run, customer)
    with django_assert_max_num_queries(10 + LOOKUP_QUERIES):
        card = agent_client.get(card_url(run)).content.decode()
    assert "Process: New employee laptop" in card
    assert "step 2 of 3: Hardware choice" in card
    assert "Nina New" in card  # the customer's answers
    assert 'name="model"' in card
    assert "Submit for approval" in card


def test_an_agent_outside_the_team_sees_the_card_without_the_form(
    client, run, customer, portal_queue
):
    colleague = UserFactory()
    portal_queue.members.add(colleague)
    client.force_login(colleague)
    card = client.get(card_url(at_step_two(run, customer))).content.decode()
    assert "is for the team IT" in card
    assert 'name="model"' not in card


def test_a_request_without_a_process_has_no_card(agent_client, queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    answer = agent_client.get(f"/desk/processes/requests/{ticket.number}/")
    assert answer.status_code == 200
    assert answer.content == b""


def test_the_card_of_a_request_in_another_queue_is_404(agent_client, agent):
    hidden = TicketFactory(queue=QueueFactory(), by=agent)
    assert agent_client.get(f"/desk/processes/requests/{hidden.number}/").status_code == 404


def test_the_agent_does_the_step_and_approves_it_on_the_desk(agent_client, run, customer):
    at_step_two(run, customer)
    url = f"/desk/processes/requests/{run.ticket.number}/steps/{step(run, 2).pk}/"
    answer = agent_client.post(url, HARDWARE, **HTMX)
    assert answer.headers["HX-Redirect"] == f"/desk/requests/{run.ticket.number}/"
    card = agent_client.get(card_url(run)).content.decode()
    assert "Approve Hardware choice" in card
    agent_client.post(f"/desk/processes/requests/{run.ticket.number}/approve/", **HTMX)
    run.refresh_from_db()
    assert run.current_step.position == 3


def test_the_agent_sends_the_step_back_on_the_desk_and_its_form_keeps_the_answers(
    agent_client, run, customer, agent
):
    runs.submit_step(at_step_two(run, customer), step(run, 2), HARDWARE, by=agent)
    url = f"/desk/processes/requests/{run.ticket.number}/send-back/"
    refused = agent_client.post(url, {"reason": ""})
    assert refused.url == f"/desk/requests/{run.ticket.number}/"
    page = agent_client.get(refused.url).content.decode()
    assert "Say why Step 2 — Hardware choice is sent back" in page
    agent_client.post(url, {"reason": "Out of stock."}, **HTMX)
    card = agent_client.get(card_url(run)).content.decode()
    assert "sent back</span> by" in card
    assert "Why: Out of stock." in card
    assert '<option value="x1" selected>' in card  # the answers given, to correct


def test_the_portal_shows_why_the_customers_own_step_was_sent_back_not_an_agents(
    customer_client, run, customer, agent
):
    runs.submit_step(at_step_two(run, customer), step(run, 2), HARDWARE, by=agent)
    runs.send_back_step(run, by=agent, reason="Internal: budget.")
    card = customer_client.get(f"/portal/requests/{run.ticket.number}/process/").content.decode()
    assert "sent back" in card
    assert "budget" not in card


def test_invalid_answers_come_back_in_the_card_with_their_errors(agent_client, run, customer):
    at_step_two(run, customer)
    url = f"/desk/processes/requests/{run.ticket.number}/steps/{step(run, 2).pk}/"
    card = agent_client.post(url, {"model": "abacus"}, **HTMX).content.decode()
    assert "Select a valid choice" in card
    run.refresh_from_db()
    assert run.state == ProcessRun.State.RUNNING


def test_the_desk_lists_the_processes_and_starts_one_for_a_contact(
    agent_client, laptop, customer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        page = agent_client.get("/desk/processes/").content.decode()
    assert "New employee laptop" in page
    answer = agent_client.post(
        f"/desk/processes/{laptop.pk}/start/", {"email": "CARLA@example.test", "subject": ""}
    )
    run = ProcessRun.objects.get()
    assert answer.url == f"/desk/requests/{run.ticket.number}/"
    assert run.ticket.contact == customer


def test_starting_for_an_unknown_address_says_so(agent_client, laptop):
    page = agent_client.post(f"/desk/processes/{laptop.pk}/start/", {"email": "x@example.test"})
    assert "No contact has this address" in page.content.decode()
    assert not ProcessRun.objects.exists()


def test_the_portal_card_shows_the_customers_step_form(
    customer_client, run, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        card = customer_client.get(
            f"/portal/requests/{run.ticket.number}/process/"
        ).content.decode()
    assert "step 1 of 3: Who and when" in card
    assert 'name="start_date"' in card


def test_the_portal_hides_the_agents_answers(customer_client, run, customer, agent):
    runs.submit_step(at_step_two(run, customer), step(run, 2), HARDWARE, by=agent)
    card = customer_client.get(f"/portal/requests/{run.ticket.number}/process/").content.decode()
    assert "Nina New" in card
    assert "Hardware choice" in card
    assert "ThinkPad" not in card
    assert "We are checking hardware choice" in card


def test_the_customer_does_their_step_on_the_portal(customer_client, run):
    url = f"/portal/requests/{run.ticket.number}/process/steps/{step(run, 1).pk}/"
    answer = customer_client.post(url, WHO)
    assert answer.url == f"/portal/requests/{run.ticket.number}/"
    run.refresh_from_db()
    assert run.current_step.position == 2


def test_another_customers_process_card_is_404(client, run):
    client.force_login(PortalContactFactory().user)
    assert client.get(f"/portal/requests/{run.ticket.number}/process/").status_code == 404


def test_the_portal_lists_and_starts_its_processes(customer_client, laptop, customer):
    page = customer_client.get("/portal/processes/").content.decode()
    assert "New employee laptop" in page
    answer = customer_client.post(f"/portal/processes/{laptop.pk}/start/")
    run = ProcessRun.objects.get()
    assert answer.url == f"/portal/requests/{run.ticket.number}/"
    assert run.ticket.contact == customer


def test_the_request_pages_load_the_card(agent_client, run, customer):
    desk = agent_client.get(f"/desk/requests/{run.ticket.number}/").content.decode()
    agent_client.force_login(customer.user)
    portal = agent_client.get(f"/portal/requests/{run.ticket.number}/").content.decode()
    assert f'hx-get="/desk/processes/requests/{run.ticket.number}/"' in desk
    assert f'hx-get="/portal/requests/{run.ticket.number}/process/"' in portal
