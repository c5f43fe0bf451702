"""The request page: what an agent sees, who may see it, properties edited in place."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import LOOKUP_QUERIES
from tests.factories import (
    AdminFactory,
    AttachmentFactory,
    CategoryFactory,
    ContactFactory,
    CustomFieldFactory,
    MessageFactory,
    PriorityFactory,
    QueueFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Channel, CustomField, Event, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, subject="Printer on fire", body="It smokes.", owner=agent)


@pytest.fixture
def outsider_client(client):
    client.force_login(UserFactory())
    return client


def url(name, ticket, *args):
    return reverse(f"desk:{name}", args=[ticket.number, *args])


def page(client, ticket, **params):
    return client.get(url("request", ticket), params)


# Seeing it


def test_page_shows_the_request_to_an_agent_of_its_queue(agent_client, ticket):
    response = page(agent_client, ticket)
    assert response.status_code == 200
    assert ticket.number in response.text
    assert "Printer on fire" in response.text
    assert "It smokes." in response.text


def test_page_is_404_for_an_agent_outside_the_queue(outsider_client, ticket):
    assert page(outsider_client, ticket).status_code == 404


def test_page_is_404_for_an_unknown_number(agent_client, queue):
    assert agent_client.get(reverse("desk:request", args=["NOPE-1"])).status_code == 404


def test_page_opens_for_an_agent_through_a_team(client, ticket):
    team = TeamFactory()
    member = UserFactory()
    member.groups.add(team)
    ticket.queue.teams.add(team)
    client.force_login(member)
    assert page(client, ticket).status_code == 200


def test_staff_see_requests_of_every_queue(client, ticket):
    client.force_login(AdminFactory())
    assert page(client, ticket).status_code == 200


def test_page_sends_anonymous_visitors_to_sign_in(client, ticket):
    response = page(client, ticket)
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


# Every endpoint under the request: (method, url name, extra url arguments)
ENDPOINTS = [
    ("get", "request", []),
    ("post", "request_properties", []),
    ("post", "request_reply", []),
    ("get", "request_template", [1]),
    ("post", "request_note", []),
    ("post", "request_note_pin", [1]),
    ("post", "request_note_delete", [1]),
    ("post", "request_ask", []),
    ("post", "request_forward", []),
    ("post", "request_progress", []),
    ("post", "request_regress", []),
    ("post", "request_postpone", []),
    ("post", "request_reactivate", []),
    ("post", "request_close", []),
    ("post", "request_delete", []),
    ("post", "request_restore", []),
    ("post", "request_merge", []),
    ("get", "request_merge_search", []),
    ("post", "request_link", []),
    ("post", "request_unlink", ["X-1"]),
    ("get", "request_print", []),
    ("post", "request_email", []),
    ("post", "request_activity_add", []),
    ("post", "request_activity_done", [1]),
    ("post", "request_activity_cancel", [1]),
]


@pytest.mark.parametrize(("method", "name", "args"), ENDPOINTS)
def test_every_endpoint_is_404_for_an_agent_outside_the_queue(
    outsider_client, ticket, method, name, args
):
    response = getattr(outsider_client, method)(url(name, ticket, *args))
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.base_status == "active"


def test_opening_marks_it_read_for_its_owner(agent_client, ticket):
    assert ticket.is_unread
    page(agent_client, ticket)
    ticket.refresh_from_db()
    assert not ticket.is_unread


def test_opening_by_another_agent_leaves_it_unread_for_the_owner(client, ticket):
    colleague = UserFactory()
    ticket.queue.members.add(colleague)
    client.force_login(colleague)
    page(client, ticket)
    ticket.refresh_from_db()
    assert ticket.is_unread


def test_header_shows_the_stage_progress(agent_client, ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    html = page(agent_client, ticket).text
    assert 'class="stage done"' in html
    assert 'class="stage current" role="listitem" aria-current="step"' in html
    assert html.count('class="stage todo"') == 2  # Investigating, Closed


def test_header_lists_regressions_with_their_reason(agent_client, ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    workflow.regress_ticket(ticket, reason="Customer sent new logs", by=agent)
    html = page(agent_client, ticket).text
    assert 'aria-label="Regressions"' in html
    assert "Customer sent new logs" in html
    assert "Support › Triage → Support › New" in html


# The timeline


@pytest.fixture
def conversation(ticket, agent):
    workflow.add_note(ticket, text="Checked the toner.", by=agent)
    workflow.reply_to_customer(ticket, body="Please unplug it.", by=agent)
    return ticket


def test_timeline_shows_messages_notes_and_events(agent_client, conversation):
    html = page(agent_client, conversation).text
    assert "It smokes." in html
    assert "Checked the toner." in html
    assert "Please unplug it." in html
    assert "created the request" in html


def test_timeline_filter_notes_shows_only_notes(agent_client, conversation):
    html = page(agent_client, conversation, show="notes").text
    assert "Checked the toner." in html
    assert "Please unplug it." not in html
    assert "created the request" not in html


def test_timeline_filter_messages_leaves_notes_out(agent_client, conversation):
    html = page(agent_client, conversation, show="messages").text
    assert "Please unplug it." in html
    assert "Checked the toner." not in html


def test_timeline_filter_ignores_an_unknown_choice(agent_client, conversation):
    response = page(agent_client, conversation, show="bogus")
    assert response.status_code == 200
    assert "Checked the toner." in response.text


def test_htmx_timeline_refresh_renders_only_the_timeline(agent_client, conversation):
    response = agent_client.get(
        url("request", conversation), {"show": "notes"}, headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<section id="timeline"')
    assert "navbar" not in response.text


def test_notes_and_external_messages_look_different(agent_client, ticket, agent):
    workflow.add_note(ticket, text="Internal thought", by=agent)
    workflow.forward_to_external(ticket, to="vendor@supplier.test", body="Parts?", by=agent)
    html = page(agent_client, ticket).text
    assert "message-note" in html
    assert "message-external" in html


def test_pinned_notes_show_at_the_top(agent_client, ticket, agent):
    workflow.add_note(ticket, text="VIP customer", pinned=True, by=agent)
    html = page(agent_client, ticket).text
    assert 'aria-label="Pinned notes"' in html
    assert html.index("VIP customer") < html.index('id="timeline"')


def test_the_latest_note_shows_a_delete_button_to_its_author_only(client, ticket, agent):
    note = workflow.add_note(ticket, text="Mine", by=agent)
    delete_url = url("request_note_delete", ticket, note.pk)
    client.force_login(agent)
    assert delete_url in page(client, ticket).text
    colleague = UserFactory()
    ticket.queue.members.add(colleague)
    client.force_login(colleague)
    assert delete_url not in page(client, ticket).text


def test_survivor_shows_the_messages_of_a_request_merged_into_it(agent_client, queue, agent):
    survivor = TicketFactory(queue=queue, body="First report")
    duplicate = TicketFactory(queue=queue, body="Same problem again")
    workflow.merge_ticket(duplicate, into=survivor, by=agent)
    html = page(agent_client, survivor).text
    assert "Same problem again" in html
    assert f"from {duplicate.number}" in html


def test_merged_request_shows_a_banner_and_no_actions(agent_client, queue, agent):
    survivor = TicketFactory(queue=queue)
    duplicate = TicketFactory(queue=queue)
    workflow.merge_ticket(duplicate, into=survivor, by=agent)
    html = page(agent_client, duplicate).text
    assert "This request was merged into" in html
    assert url("request", survivor) in html
    assert url("request_reply", duplicate) not in html
    assert url("request_properties", duplicate) not in html
    assert url("request_delete", duplicate) not in html


def test_deleted_request_offers_restore_only(agent_client, ticket, agent):
    workflow.delete_ticket(ticket, by=agent)
    html = page(agent_client, ticket).text
    assert url("request_restore", ticket) in html
    assert url("request_reply", ticket) not in html
    assert url("request_note", ticket) not in html
    assert url("request_close", ticket) not in html


def test_closed_request_offers_reopen_but_not_progress_or_close(agent_client, ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    html = page(agent_client, ticket).text
    assert url("request_reactivate", ticket) in html
    assert url("request_progress", ticket) not in html
    assert url("request_close", ticket) not in html


def test_page_shows_time_units_and_first_response_time(agent_client, ticket, agent):
    workflow.add_note(ticket, text="Looked", time_units=3, by=agent)
    workflow.reply_to_customer(ticket, body="Done", time_units=4, by=agent)
    html = page(agent_client, ticket).text
    assert '<dt class="col-6">Time units</dt><dd class="col-6">7</dd>' in html
    assert "not yet" not in html


# The contact and company card


def test_customer_card_lists_the_contacts_other_requests_open_first(agent_client, queue, agent):
    contact = ContactFactory(name="Carla Customer", phone="+41 44 123")
    closed = TicketFactory(queue=queue, contact=contact, subject="Old closed one")
    workflow.close_ticket(closed, resolved=True, by=agent)
    TicketFactory(queue=queue, contact=contact, subject="Still open one")
    ticket = TicketFactory(queue=queue, contact=contact)
    html = page(agent_client, ticket).text
    assert "Carla Customer" in html
    assert "+41 44 123" in html
    assert html.index("Still open one") < html.index("Old closed one")


def test_customer_card_lists_the_companys_other_requests(agent_client, queue):
    contact = ContactFactory()
    colleague = ContactFactory(company=contact.company, name="Cora Colleague")
    TicketFactory(queue=queue, contact=colleague, subject="Her VPN is down")
    ticket = TicketFactory(queue=queue, contact=contact)
    html = page(agent_client, ticket).text
    assert "Her VPN is down" in html
    assert "Cora Colleague" in html


def test_customer_card_leaves_out_requests_in_queues_the_agent_cannot_see(agent_client, queue):
    contact = ContactFactory()
    TicketFactory(queue=QueueFactory(), contact=contact, subject="Secret billing dispute")
    ticket = TicketFactory(queue=queue, contact=contact)
    assert "Secret billing dispute" not in page(agent_client, ticket).text


def test_internal_request_says_it_has_no_customer(agent_client, queue, agent):
    ticket = TicketFactory(queue=queue, channel=Channel.INTERNAL, contact=None, by=agent)
    assert "there is no customer" in page(agent_client, ticket).text


def test_related_requests_show_on_both_pages(agent_client, ticket, queue, agent):
    other = TicketFactory(queue=queue, subject="Fire alarm went off")
    workflow.link_tickets(ticket, other, by=agent)
    assert "Fire alarm went off" in page(agent_client, ticket).text
    assert "Printer on fire" in page(agent_client, other).text


# Query counts


def test_page_query_count_does_not_grow_with_the_number_of_messages_or_activities(
    agent_client, queue, agent, django_assert_max_num_queries
):
    small, large = TicketFactory(queue=queue), TicketFactory(queue=queue)
    team = TeamFactory()
    for ticket, count in ((small, 5), (large, 50)):
        for n in range(count):
            message = MessageFactory(ticket=ticket, body_text=f"message {n}")
            AttachmentFactory(message=message)
            workflow.add_note(ticket, text=f"note {n}", by=agent)
            activity = workflow.schedule_activity(
                ticket, title=f"task {n}", assignee=UserFactory(), team=team, by=agent
            )
            if n % 2:
                workflow.complete_activity(activity, by=UserFactory())
    with django_assert_max_num_queries(27 + LOOKUP_QUERIES) as small_queries:
        assert page(agent_client, small).status_code == 200
    with django_assert_max_num_queries(len(small_queries)) as large_queries:
        assert page(agent_client, large).status_code == 200
    assert len(large_queries) == len(small_queries)


# Properties, edited in place


@pytest.fixture
def properties_data(ticket):
    return {
        "seen_at": ticket.updated_at.isoformat(),
        "queue": ticket.queue_id,
        "category": "",
        "tags": "",
        "priority": ticket.priority_id,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "owner": ticket.owner_id or "",
        "team": "",
        "related_address": "",
    }


def post_properties(client, ticket, data, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url("request_properties", ticket), data, headers=headers)


def test_properties_save_in_place(agent_client, ticket, properties_data):
    high = PriorityFactory(name="High", rank=3)
    team = TeamFactory(name="Printers")
    properties_data |= {"priority": high.pk, "team": team.pk, "tags": "hardware, Fire"}
    response = post_properties(agent_client, ticket, properties_data)
    assert response.status_code == 200
    assert "Saved" in response.text
    assert 'hx-swap-oob="true"' in response.text
    ticket.refresh_from_db()
    assert ticket.priority == high
    assert ticket.team == team
    assert sorted(t.name for t in ticket.tags.all()) == ["Fire", "hardware"]


def test_properties_keep_existing_tags_and_create_new_ones(agent_client, ticket, properties_data):
    existing = TagFactory(name="vip")
    properties_data["tags"] = "VIP, , new-one"
    post_properties(agent_client, ticket, properties_data)
    assert set(ticket.tags.all()) == {existing, ticket.tags.get(name="new-one")}


def test_properties_impact_and_urgency_rederive_the_priority(agent_client, ticket, properties_data):
    from tests.factories import PriorityRuleFactory

    critical = PriorityFactory(name="Critical", rank=9)
    PriorityRuleFactory(impact="high", urgency="high", priority=critical)
    properties_data |= {"impact": "high", "urgency": "high"}
    post_properties(agent_client, ticket, properties_data)
    ticket.refresh_from_db()
    assert ticket.priority == critical


def test_properties_save_custom_fields_by_kind(agent_client, ticket, properties_data):
    CustomFieldFactory(key="serial", kind=CustomField.Kind.TEXT)
    CustomFieldFactory(key="floor", kind=CustomField.Kind.NUMBER).queues.add(ticket.queue)
    CustomFieldFactory(key="bought", kind=CustomField.Kind.DATE)
    CustomFieldFactory(key="model", kind=CustomField.Kind.CHOICE, choices="LX-1\nLX-2")
    CustomFieldFactory(key="elsewhere").queues.add(QueueFactory())
    properties_data |= {
        "cf_serial": "SN-42",
        "cf_floor": "3",
        "cf_bought": "2024-05-01",
        "cf_model": "LX-2",
    }
    response = post_properties(agent_client, ticket, properties_data)
    assert "cf_elsewhere" not in response.text
    ticket.refresh_from_db()
    assert ticket.custom_fields == {
        "serial": "SN-42",
        "floor": 3,
        "bought": "2024-05-01",
        "model": "LX-2",
    }


def test_properties_refuse_an_unknown_custom_choice(agent_client, ticket, properties_data):
    CustomFieldFactory(key="model", kind=CustomField.Kind.CHOICE, choices="LX-1")
    properties_data["cf_model"] = "ZZ-9"
    response = post_properties(agent_client, ticket, properties_data)
    assert "Select a valid choice" in response.text
    ticket.refresh_from_db()
    assert ticket.custom_fields == {}


def test_properties_assign_an_agent_of_the_queue(agent_client, ticket, properties_data):
    colleague = UserFactory()
    ticket.queue.members.add(colleague)
    properties_data["owner"] = colleague.pk
    post_properties(agent_client, ticket, properties_data)
    ticket.refresh_from_db()
    assert ticket.owner == colleague
    assert ticket.is_unread


def test_properties_refuse_an_owner_outside_the_queue(agent_client, ticket, properties_data):
    properties_data["owner"] = UserFactory().pk
    response = post_properties(agent_client, ticket, properties_data)
    assert "Select a valid choice" in response.text


def test_properties_move_to_another_queue_of_the_agent(
    agent_client, ticket, agent, properties_data
):
    billing = QueueFactory(name="Billing")
    billing.members.add(agent)
    properties_data["queue"] = billing.pk
    post_properties(agent_client, ticket, properties_data)
    ticket.refresh_from_db()
    assert ticket.queue == billing


def test_properties_refuse_a_queue_the_agent_does_not_work(agent_client, ticket, properties_data):
    properties_data["queue"] = QueueFactory().pk
    response = post_properties(agent_client, ticket, properties_data)
    assert "Select a valid choice" in response.text
    assert Ticket.objects.get(pk=ticket.pk).queue == ticket.queue


def test_properties_offer_only_the_queues_categories(agent_client, ticket, properties_data):
    mine, foreign = CategoryFactory(name="Printers"), CategoryFactory(name="Payroll")
    ticket.queue.categories.add(mine)
    properties_data["category"] = foreign.pk
    response = post_properties(agent_client, ticket, properties_data)
    assert "Select a valid choice" in response.text
    properties_data["category"] = mine.pk
    post_properties(agent_client, ticket, properties_data)
    ticket.refresh_from_db()
    assert ticket.category == mine


def test_stale_properties_edit_is_reported_not_overwritten(
    agent_client, ticket, agent, properties_data
):
    high, low = PriorityFactory(name="High", rank=3), PriorityFactory(name="Low", rank=1)
    properties_data["priority"] = low.pk
    # Someone else changes the request after the page was loaded.
    workflow.update_ticket(ticket, priority=high, by=UserFactory())
    response = post_properties(agent_client, ticket, properties_data)
    assert response.status_code == 200
    assert "was changed by someone else" in response.text
    assert "Reload" in response.text
    ticket.refresh_from_db()
    assert ticket.priority == high


def test_stale_edit_rolls_back_every_part_of_the_form(agent_client, ticket, properties_data):
    workflow.update_ticket(ticket, related_address="Somewhere", by=UserFactory())
    properties_data["tags"] = "should-not-stick"
    post_properties(agent_client, ticket, properties_data)
    assert not ticket.tags.exists()


def test_properties_without_seen_at_ask_to_reload(agent_client, ticket, properties_data):
    properties_data["seen_at"] = "yesterday"
    response = post_properties(agent_client, ticket, properties_data)
    assert "Reload the request" in response.text


def test_properties_without_htmx_redirect_back_with_a_message(
    agent_client, ticket, properties_data
):
    properties_data["related_address"] = "Main Street 1"
    response = post_properties(agent_client, ticket, properties_data, htmx=False)
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).related_address == "Main Street 1"


def test_properties_edit_writes_events(agent_client, ticket, properties_data):
    properties_data["related_address"] = "Main Street 1"
    post_properties(agent_client, ticket, properties_data)
    assert Event.objects.filter(ticket=ticket, field="related_address").exists()


def test_properties_of_a_merged_request_are_refused(agent_client, queue, agent):
    survivor, duplicate = TicketFactory(queue=queue), TicketFactory(queue=queue)
    workflow.merge_ticket(duplicate, into=survivor, by=agent)
    duplicate.refresh_from_db()
    data = {
        "seen_at": duplicate.updated_at.isoformat(),
        "queue": queue.pk,
        "priority": duplicate.priority_id,
        "impact": "medium",
        "urgency": "medium",
        "related_address": "Changed",
    }
    response = post_properties(agent_client, duplicate, data)
    assert "read-only" in response.text
    assert Ticket.objects.get(pk=duplicate.pk).related_address == ""


# Attachments and print


def test_attachment_downloads_with_a_safe_filename(agent_client, ticket):
    message = MessageFactory(ticket=ticket)
    attachment = AttachmentFactory(message=message, filename='../../etc/"passwd".pdf')
    response = agent_client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "../" not in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 demo"


def test_attachment_is_404_outside_the_queue(outsider_client, ticket):
    attachment = AttachmentFactory(message=MessageFactory(ticket=ticket))
    response = outsider_client.get(attachment.get_absolute_url())
    assert response.status_code == 404


def test_attachment_of_a_merged_request_opens_for_an_agent_of_the_survivor(client, queue, agent):
    survivor, duplicate = TicketFactory(queue=queue), TicketFactory(queue=QueueFactory())
    attachment = AttachmentFactory(message=MessageFactory(ticket=duplicate))
    workflow.merge_ticket(duplicate, into=survivor, by=AdminFactory())
    client.force_login(agent)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200


def test_print_page_shows_public_messages_and_properties_without_navbar(agent_client, conversation):
    response = agent_client.get(url("request_print", conversation))
    assert response.status_code == 200
    html = response.text
    assert "Please unplug it." in html
    assert "It smokes." in html
    assert "Checked the toner." not in html
    assert "navbar" not in html
    assert "Support" in html


def test_print_page_leaves_out_external_messages(agent_client, ticket, agent):
    workflow.forward_to_external(ticket, to="vendor@supplier.test", body="Our margin", by=agent)
    assert "Our margin" not in agent_client.get(url("request_print", ticket)).text


def test_page_shows_inbound_html_only_mail_as_text(agent_client, ticket):
    MessageFactory(ticket=ticket, body_text="", body_html="<p>Only <b>HTML</b> here</p>")
    assert "Only HTML here" in page(agent_client, ticket).text


def test_page_shows_outbound_mail_that_failed_to_send(agent_client, ticket):
    MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        send_error="Connection refused",
        created_at=timezone.now() + timedelta(seconds=1),
    )
    assert "not sent yet" in page(agent_client, ticket).text


def test_timeline_tells_one_action_on_one_line(agent_client, ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    html = page(agent_client, ticket).text
    assert "closed it: stage Support › New → Support › Closed; status Active → Closed; " in html
    assert "resolved yes" in html


def test_the_related_address_is_chosen_from_the_contacts_or_typed(
    agent_client, ticket, properties_data
):
    ticket.contact.address = "Harbour Street 1\nDublin"
    ticket.contact.save()
    page = agent_client.get(url("request", ticket)).text
    assert "Harbour Street 1" in page  # offered
    post_properties(agent_client, ticket, properties_data | {"address_of": "contact"})
    assert Ticket.objects.get(pk=ticket.pk).related_address == "Harbour Street 1\nDublin"
    post_properties(agent_client, ticket, properties_data | {"related_address": "Pier 9",
        "seen_at": Ticket.objects.get(pk=ticket.pk).updated_at.isoformat()})  # fmt: skip
    assert Ticket.objects.get(pk=ticket.pk).related_address == "Pier 9"
