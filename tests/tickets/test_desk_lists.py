"""The desk's request lists: filters, sorting, pages, saved views, bulk actions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from tests.factories import (
    AdminFactory,
    CategoryFactory,
    CompanyFactory,
    ContactFactory,
    MessageFactory,
    PriorityFactory,
    QueueFactory,
    QueuePriorityTimeFactory,
    SavedViewFactory,
    StatusFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import filters, workflow
from tickets.models import Channel, SavedView, Stage, Status, Ticket
from tickets.views.desk import lists

URL = "/desk/requests/"
BULK = "/desk/requests/bulk/"


@pytest.fixture
def other_queue(db):
    """A queue the agent is not a member of."""
    return QueueFactory(name="Billing")


def numbers(response) -> list[str]:
    return [t.number for t in response.context["page"]]


def notes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def refreshed(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# Who sees what


def test_list_shows_only_requests_in_the_agents_queues(agent_client, queue, other_queue):
    mine = TicketFactory(queue=queue)
    TicketFactory(queue=other_queue)
    response = agent_client.get(URL)
    assert response.status_code == 200
    assert numbers(response) == [mine.number]


def test_list_counts_requests_of_the_agents_teams_queues(client, queue, other_queue):
    team = TeamFactory()
    other_queue.teams.add(team)
    colleague = UserFactory()
    colleague.groups.add(team)
    billing = TicketFactory(queue=other_queue)
    client.force_login(colleague)
    assert numbers(client.get(URL)) == [billing.number]


def test_staff_see_every_queue(client, queue, other_queue):
    tickets = [TicketFactory(queue=queue), TicketFactory(queue=other_queue)]
    client.force_login(AdminFactory())
    assert set(numbers(client.get(URL))) == {t.number for t in tickets}


def test_list_sends_strangers_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_list_refuses_portal_contacts(client, db):
    customer = UserFactory()
    ContactFactory(user=customer)
    client.force_login(customer)
    assert client.get(URL).status_code == 403


def test_filter_choices_offer_only_the_agents_queues(agent_client, queue, other_queue):
    form = agent_client.get(URL).context["filter"].form
    assert list(form.fields["queue"].queryset) == [queue]
    assert {s.queue for s in form.fields["stage"].queryset} == {queue}


def test_filtering_by_a_foreign_queue_is_an_error_not_a_leak(agent_client, queue, other_queue):
    TicketFactory(queue=other_queue)
    response = agent_client.get(URL, {"queue": other_queue.pk})
    assert "queue" in response.context["filter"].errors
    assert numbers(response) == []


def test_owner_choices_are_agents_of_the_agents_queues(agent_client, agent, queue, other_queue):
    colleague = UserFactory()
    queue.members.add(colleague)
    stranger = UserFactory()
    other_queue.members.add(stranger)
    choices = dict(agent_client.get(URL).context["filter"].form.fields["owner"].choices)
    assert str(colleague.pk) in choices and str(agent.pk) in choices
    assert str(stranger.pk) not in choices


# Filters


def test_filter_by_queue(client, queue, other_queue):
    client.force_login(AdminFactory())
    billing = TicketFactory(queue=other_queue)
    TicketFactory(queue=queue)
    assert numbers(client.get(URL, {"queue": other_queue.pk})) == [billing.number]


def test_filter_by_stage(agent_client, queue):
    moved = workflow.progress_ticket(TicketFactory(queue=queue), by=None)
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"stage": moved.stage.pk})) == [moved.number]


def test_filter_by_custom_status(agent_client, queue):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    postponed = workflow.postpone_ticket(
        TicketFactory(queue=queue),
        until=timezone.now() + timedelta(days=1),
        by=None,
        status=waiting,
    )
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"status": waiting.pk})) == [postponed.number]


def test_deleted_requests_show_only_when_asked_for(agent_client, queue):
    deleted = workflow.delete_ticket(TicketFactory(queue=queue), by=None)
    active = TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL)) == [active.number]
    assert numbers(agent_client.get(URL, {"base_status": "deleted"})) == [deleted.number]


def test_open_shortcut_leaves_out_closed_requests(agent_client, queue):
    workflow.close_ticket(TicketFactory(queue=queue), resolved=True, by=None)
    postponed = workflow.postpone_ticket(
        TicketFactory(queue=queue), until=timezone.now() + timedelta(days=1), by=None
    )
    active = TicketFactory(queue=queue)
    assert set(numbers(agent_client.get(URL, {"open": "1"}))) == {postponed.number, active.number}


def test_owner_me_and_nobody(agent_client, agent, queue):
    mine = TicketFactory(queue=queue, owner=agent)
    unassigned = TicketFactory(queue=queue)
    colleague = UserFactory()
    queue.members.add(colleague)
    theirs = TicketFactory(queue=queue, owner=colleague)
    assert numbers(agent_client.get(URL, {"owner": "me", "open": "1"})) == [mine.number]
    assert numbers(agent_client.get(URL, {"owner": "nobody", "open": "1"})) == [unassigned.number]
    assert numbers(agent_client.get(URL, {"owner": colleague.pk})) == [theirs.number]


def test_nav_highlights_the_list_its_link_opens(agent_client, queue):
    assert agent_client.get(URL, {"owner": "me", "open": "1"}).context["nav"] == "mine"
    assert agent_client.get(URL, {"owner": "nobody", "open": "1"}).context["nav"] == "unassigned"
    assert agent_client.get(URL, {"overdue": "1"}).context["nav"] == "overdue"
    assert agent_client.get(URL).context["nav"] == "all"
    assert agent_client.get(URL, {"q": "printer"}).context["nav"] == ""


def test_filter_by_team(agent_client, agent, queue):
    team = TeamFactory()
    agent.groups.add(team)
    teams = TicketFactory(queue=queue, team=team)
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"team": team.pk})) == [teams.number]


def test_filter_by_priority(agent_client, queue):
    urgent = PriorityFactory(name="High", rank=3)
    high = TicketFactory(queue=queue, priority=urgent)
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"priority": urgent.pk})) == [high.number]


def test_filter_by_category_includes_its_subtree(agent_client, queue):
    hardware = CategoryFactory(name="Hardware")
    printers = CategoryFactory(name="Printers", parent=hardware)
    software = CategoryFactory(name="Software")
    in_parent = TicketFactory(queue=queue, category=hardware)
    in_child = TicketFactory(queue=queue, category=printers)
    TicketFactory(queue=queue, category=software)
    found = numbers(agent_client.get(URL, {"category": hardware.pk}))
    assert set(found) == {in_parent.number, in_child.number}
    assert numbers(agent_client.get(URL, {"category": printers.pk})) == [in_child.number]


def test_filter_by_tag_name(agent_client, queue):
    TagFactory(name="vip")
    tagged = TicketFactory(queue=queue, tags=["vip", "printer"])
    TicketFactory(queue=queue, tags=["printer"])
    assert numbers(agent_client.get(URL, {"tag": "vip"})) == [tagged.number]


def test_filter_by_channel(agent_client, agent, queue):
    call = TicketFactory(queue=queue, channel=Channel.PHONE, by=agent)
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"channel": "phone"})) == [call.number]


def test_filter_by_contact_name_email_or_id(agent_client, queue):
    contact = ContactFactory(name="Carol Customer", email="carol@example.test")
    hers = TicketFactory(queue=queue, contact=contact)
    TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"contact": "carol cust"})) == [hers.number]
    assert numbers(agent_client.get(URL, {"contact": "CAROL@example"})) == [hers.number]
    assert numbers(agent_client.get(URL, {"contact": contact.pk})) == [hers.number]


def test_filter_by_company_through_its_contacts(agent_client, queue):
    acme = CompanyFactory(name="Acme Ltd")
    first = TicketFactory(queue=queue, contact=ContactFactory(company=acme))
    second = TicketFactory(queue=queue, contact=ContactFactory(company=acme))
    TicketFactory(queue=queue)
    expected = {first.number, second.number}
    assert set(numbers(agent_client.get(URL, {"company": "acme"}))) == expected
    assert set(numbers(agent_client.get(URL, {"company": acme.pk}))) == expected


def test_filter_by_created_range(agent_client, queue):
    now = timezone.now()
    old = TicketFactory(queue=queue, now=now - timedelta(days=10))
    TicketFactory(queue=queue, now=now)
    until = (now - timedelta(days=5)).date().isoformat()
    assert numbers(agent_client.get(URL, {"created_before": until})) == [old.number]
    found = numbers(agent_client.get(URL, {"created_after": until}))
    assert old.number not in found and len(found) == 1


def test_filter_by_deadline_range_and_overdue(agent_client, queue):
    QueuePriorityTimeFactory(queue=queue, priority=queue.default_priority, completion_minutes=60)
    now = timezone.now()
    late = TicketFactory(queue=queue, now=now - timedelta(days=3))
    workflow.close_ticket(
        TicketFactory(queue=queue, now=now - timedelta(days=3)), resolved=True, by=None
    )
    on_time = TicketFactory(queue=queue)
    assert numbers(agent_client.get(URL, {"overdue": "1"})) == [late.number]
    today = on_time.deadline.date().isoformat()
    assert numbers(agent_client.get(URL, {"deadline_after": today})) == [on_time.number]
    earlier = (now - timedelta(days=1)).date().isoformat()
    assert late.number in numbers(agent_client.get(URL, {"deadline_before": earlier}))


def test_filter_by_unread(agent_client, agent, queue):
    unread = TicketFactory(queue=queue, owner=agent)
    read = TicketFactory(queue=queue, owner=agent)
    workflow.mark_read(read, by=agent)
    assert numbers(agent_client.get(URL, {"unread": "1"})) == [unread.number]


def test_unread_rows_stand_out(agent_client, agent, queue):
    TicketFactory(queue=queue, owner=agent)
    assert 'class="ticket-row unread"' in agent_client.get(URL).text


def test_text_search_matches_subject_words_in_any_order(agent_client, queue):
    found = TicketFactory(queue=queue, subject="Printer on floor 3 is jammed")
    TicketFactory(queue=queue, subject="Printer works fine")
    assert numbers(agent_client.get(URL, {"q": "jammed PRINTER"})) == [found.number]


def test_text_search_finds_a_word_only_in_a_message_body(agent_client, queue):
    found = TicketFactory(queue=queue, subject="Help", body="The flux capacitor hums.")
    MessageFactory(ticket=found, body_text="Still the capacitor.")
    TicketFactory(queue=queue, subject="Help", body="Nothing to see")
    response = agent_client.get(URL, {"q": "capacitor"})
    assert numbers(response) == [found.number]


def test_invalid_filter_shows_the_error_and_no_requests(agent_client, queue):
    TicketFactory(queue=queue)
    response = agent_client.get(URL, {"created_after": "not a date"})
    assert "created_after" in response.context["filter"].errors
    assert numbers(response) == []
    assert "Enter a valid date" in response.text


def test_more_filters_load_when_their_panel_is_opened(agent_client, queue):
    assert 'name="stage"' not in agent_client.get(URL).text
    response = agent_client.get("/desk/requests/filters/")
    assert 'name="stage"' in response.text
    assert "navbar" not in response.text


def test_more_filters_are_in_the_page_when_one_of_them_is_set(agent_client, queue):
    html = agent_client.get(URL, {"channel": Channel.PHONE}).text
    assert 'id="more-filters" class="collapse show"' in html
    assert 'name="stage"' in html


# Sorting and pages


def test_default_order_is_newest_first(agent_client, queue):
    now = timezone.now()
    older = TicketFactory(queue=queue, now=now - timedelta(hours=2))
    newer = TicketFactory(queue=queue, now=now)
    assert numbers(agent_client.get(URL)) == [newer.number, older.number]


def test_sort_by_subject_both_ways(agent_client, queue):
    apple = TicketFactory(queue=queue, subject="Apple")
    zebra = TicketFactory(queue=queue, subject="Zebra")
    assert numbers(agent_client.get(URL, {"sort": "subject"})) == [apple.number, zebra.number]
    assert numbers(agent_client.get(URL, {"sort": "-subject"})) == [zebra.number, apple.number]


def test_sort_by_priority_rank_and_owner(agent_client, agent, queue):
    high = TicketFactory(queue=queue, priority=PriorityFactory(name="High", rank=3))
    low = TicketFactory(queue=queue, priority=PriorityFactory(name="Low", rank=1), owner=agent)
    assert numbers(agent_client.get(URL, {"sort": "-priority"})) == [high.number, low.number]
    # Requests without an owner come last either way.
    assert numbers(agent_client.get(URL, {"sort": "owner"})) == [low.number, high.number]
    assert numbers(agent_client.get(URL, {"sort": "-owner"})) == [low.number, high.number]


def test_unknown_sort_falls_back_to_newest_first(agent_client, queue):
    TicketFactory(queue=queue)
    assert agent_client.get(URL, {"sort": "password"}).status_code == 200


def test_column_header_toggles_the_sort(agent_client, queue):
    columns = {c["key"]: c for c in agent_client.get(URL, {"sort": "subject"}).context["columns"]}
    assert columns["subject"]["direction"] == "asc"
    assert "sort=-subject" in columns["subject"]["url"]
    assert "sort=number" in columns["number"]["url"]
    assert "sort=-created" in columns["created"]["url"]


def test_pages_keep_the_filters(agent_client, queue, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    tickets = [TicketFactory(queue=queue, subject=f"Mail {n}") for n in range(3)]
    first = agent_client.get(URL, {"q": "mail", "sort": "subject"})
    assert numbers(first) == [tickets[0].number, tickets[1].number]
    assert first.context["page_urls"]["next"] == f"{URL}?q=mail&sort=subject&page=2"
    second = agent_client.get(URL, {"q": "mail", "sort": "subject", "page": 2})
    assert numbers(second) == [tickets[2].number]
    assert numbers(agent_client.get(URL, {"q": "mail", "page": "nonsense"})) != []


def test_htmx_refresh_renders_only_the_results(agent_client, queue):
    TicketFactory(queue=queue)
    response = agent_client.get(URL, {"sort": "subject"}, headers={"HX-Request": "true"})
    assert 'id="request-results"' in response.text
    assert "navbar" not in response.text
    assert 'hx-swap-oob="true"' in response.text


@pytest.mark.parametrize("count", [3, 30])
def test_list_query_count_does_not_grow_with_rows(
    agent_client, agent, queue, count, django_assert_max_num_queries
):
    team = TeamFactory()
    agent.groups.add(team)
    SavedViewFactory(owner=agent, team=team)
    for n in range(count):
        TicketFactory(
            queue=queue, subject=f"Laptop {n}", owner=agent, team=team, tags=["a", f"t{n}"]
        )
    TicketFactory(queue=queue, subject="Laptop of someone else")
    filters = {"owner": "me", "open": "1", "q": "laptop", "team": team.pk, "sort": "-priority"}
    # 23, and one for the search snippets on PostgreSQL.
    with django_assert_max_num_queries(24):
        response = agent_client.get(URL, filters)
    assert len(numbers(response)) == count


@pytest.mark.parametrize("count", [3, 30])
def test_list_query_count_does_not_grow_with_stored_rows(
    agent_client, queue, count, django_assert_max_num_queries
):
    for _ in range(count):
        TicketFactory(queue=queue)
    with django_assert_max_num_queries(17):
        assert agent_client.get(URL).status_code == 200


# The search box


def test_search_by_number_opens_the_request(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    response = agent_client.get("/desk/search/", {"q": f" {ticket.number.lower()} "})
    assert response.status_code == 302
    assert response.url == f"/desk/requests/{ticket.number}/"


def test_search_for_a_foreign_number_does_not_reveal_it(agent_client, queue, other_queue):
    foreign = TicketFactory(queue=other_queue)
    response = agent_client.get("/desk/search/", {"q": foreign.number}, follow=True)
    assert numbers(response) == []


def test_search_words_list_matching_requests(agent_client, queue):
    found = TicketFactory(queue=queue, subject="Help", body="my zeppelin leaks")
    response = agent_client.get("/desk/search/", {"q": "zeppelin"}, follow=True)
    assert numbers(response) == [found.number]
    assert response.context["search_query"] == "zeppelin"


def test_empty_search_goes_to_the_list(agent_client, queue):
    response = agent_client.get("/desk/search/", {"q": "  "})
    assert response.url == URL


# Saved views


def test_save_the_current_view(agent_client, agent, queue):
    response = agent_client.post(
        "/desk/views/", {"name": "Mine open", "query": "owner=me&open=1&page=3&q="}
    )
    saved = SavedView.objects.get(owner=agent)
    assert (saved.name, saved.query, saved.team) == ("Mine open", "owner=me&open=1", None)
    assert response.url == f"{URL}?owner=me&open=1"


def test_saved_view_fields_load_when_their_panel_is_opened(agent_client, agent, queue):
    team = TeamFactory(name="Night shift")
    agent.groups.add(team)
    assert "Night shift" not in agent_client.get(URL).text
    assert "Night shift" in agent_client.get("/desk/views/fields/").text


def test_saved_view_name_must_be_new_for_its_owner(agent_client, agent, queue):
    SavedViewFactory(owner=agent, name="Mine")
    response = agent_client.post("/desk/views/", {"name": "mine", "query": "owner=me"})
    assert response.status_code == 200
    assert "already have a view" in response.context["view_form"].errors["name"][0]
    assert 'id="save-view" class="collapse show"' in response.text
    assert SavedView.objects.count() == 1


def test_saved_view_needs_a_name(agent_client, queue):
    response = agent_client.post("/desk/views/", {"name": "", "query": "owner=me"})
    assert "name" in response.context["view_form"].errors
    assert not SavedView.objects.exists()


def test_saved_view_can_be_shared_only_with_ones_own_team(agent_client, agent, queue):
    mine, theirs = TeamFactory(), TeamFactory()
    agent.groups.add(mine)
    agent_client.post("/desk/views/", {"name": "Ours", "query": "open=1", "team": mine.pk})
    assert SavedView.objects.get().team == mine
    response = agent_client.post("/desk/views/", {"name": "X", "query": "", "team": theirs.pk})
    assert "team" in response.context["view_form"].errors


def test_list_shows_own_and_team_shared_views_only(client, agent, queue):
    team = TeamFactory()
    agent.groups.add(team)
    teammate, outsider = UserFactory(), UserFactory()
    teammate.groups.add(team)
    queue.members.add(teammate, outsider)
    SavedViewFactory(owner=agent, name="Own")
    SavedViewFactory(owner=teammate, name="Shared", team=team)
    SavedViewFactory(owner=teammate, name="Private")
    SavedViewFactory(owner=outsider, name="Elsewhere", team=TeamFactory())
    client.force_login(agent)
    response = client.get(URL)
    assert [v.name for v in response.context["saved_views"]] == ["Own", "Shared"]
    assert "?status=active&amp;sort=-created_at" in response.text


def test_delete_own_saved_view(agent_client, agent, queue):
    saved = SavedViewFactory(owner=agent)
    response = agent_client.post(f"/desk/views/{saved.pk}/delete/", {"query": "open=1"})
    assert response.url == f"{URL}?open=1"
    assert not SavedView.objects.exists()


def test_cannot_delete_a_teammates_shared_view(agent_client, agent, queue):
    team = TeamFactory()
    agent.groups.add(team)
    shared = SavedViewFactory(team=team)
    assert agent_client.post(f"/desk/views/{shared.pk}/delete/").status_code == 404
    assert agent_client.post("/desk/views/999999/delete/").status_code == 404
    assert SavedView.objects.filter(pk=shared.pk).exists()


# Bulk actions


def bulk(client, tickets, action, **fields):
    data = {"tickets": [t.pk for t in tickets], "action": action, "query": "open=1", **fields}
    return client.post(BULK, data)


def test_bulk_assign_owner_and_team(agent_client, agent, queue):
    team = TeamFactory()
    agent.groups.add(team)
    tickets = [TicketFactory(queue=queue), TicketFactory(queue=queue)]
    response = bulk(agent_client, tickets, "assign", owner=agent.pk, team=team.pk)
    assert response.url == f"{URL}?open=1"
    assert notes(response) == ["Assigned 2 requests."]
    assert {(t.owner, t.team) for t in map(refreshed, tickets)} == {(agent, team)}


def test_bulk_unassign_keeps_the_team(agent_client, agent, queue):
    team = TeamFactory()
    ticket = TicketFactory(queue=queue, owner=agent, team=team)
    bulk(agent_client, [ticket], "assign", owner="nobody")
    assert (refreshed(ticket).owner, refreshed(ticket).team) == (None, team)


def test_bulk_assign_needs_someone(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "assign")
    assert response.status_code == 200
    assert "Choose an owner or a team" in response.context["bulk_form"].errors["owner"][0]
    assert response.context["selected"] == {str(ticket.pk)}


def test_a_refused_bulk_action_shows_its_panel_open_with_the_error(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    html = bulk(agent_client, [ticket], "assign").text
    assert 'id="bulk-assign" class="collapse show"' in html
    assert 'id="error_1_id_owner"' in html


def test_bulk_action_fields_load_when_their_panel_is_opened(agent_client, agent, queue):
    assert 'name="merge_into"' not in agent_client.get(URL).text
    response = agent_client.get("/desk/requests/bulk/assign/")
    assert f'<option value="{agent.pk}">Alice Agent</option>' in response.text
    assert agent_client.get("/desk/requests/bulk/explode/").status_code == 404


def test_bulk_assign_to_an_agent_outside_ones_queues_is_refused(agent_client, queue, other_queue):
    stranger = UserFactory()
    other_queue.members.add(stranger)
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "assign", owner=stranger.pk)
    assert "owner" in response.context["bulk_form"].errors
    assert refreshed(ticket).owner is None


def test_bulk_assign_refuses_a_deleted_request_and_does_the_rest(agent_client, agent, queue):
    deleted = workflow.delete_ticket(TicketFactory(queue=queue), by=None)
    fine = TicketFactory(queue=queue)
    response = bulk(agent_client, [deleted, fine], "assign", owner=agent.pk)
    assert notes(response) == [
        "Assigned 1 request.",
        f"1 request not changed: {deleted.number} is deleted; restore it first.",
    ]
    assert refreshed(fine).owner == agent and refreshed(deleted).owner is None


def test_bulk_change_to_a_custom_postponed_status(agent_client, queue):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    ticket = TicketFactory(queue=queue)
    until = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = bulk(agent_client, [ticket], "status", status=waiting.pk, postponed_until=until)
    assert notes(response) == ["Changed the status of 1 request."]
    assert refreshed(ticket).status == waiting and refreshed(ticket).postponed_until


def test_bulk_postponed_status_needs_a_future_date(agent_client, queue):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "status", status=waiting.pk)
    assert "postponed_until" in response.context["bulk_form"].errors
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = bulk(agent_client, [ticket], "status", status=waiting.pk, postponed_until=past)
    assert "future" in response.context["bulk_form"].errors["postponed_until"][0]
    assert refreshed(ticket).base_status == Status.Base.ACTIVE


def test_bulk_closed_status_needs_resolved_and_refuses_closed_ones(agent_client, queue):
    closed_status = Status.builtin(Status.Base.CLOSED)
    closed = workflow.close_ticket(TicketFactory(queue=queue), resolved=True, by=None)
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "status", status=closed_status.pk)
    assert "resolved" in response.context["bulk_form"].errors
    response = bulk(
        agent_client, [ticket, closed], "status", status=closed_status.pk, resolved="no"
    )
    assert notes(response)[1] == f"1 request not changed: {closed.number} is already closed."
    assert refreshed(ticket).resolved is False


def test_bulk_change_priority(agent_client, queue):
    high = PriorityFactory(name="High", rank=3)
    ticket = TicketFactory(queue=queue)
    bulk(agent_client, [ticket], "priority", priority=high.pk)
    assert refreshed(ticket).priority == high


def test_bulk_change_priority_refuses_a_merged_request(agent_client, queue):
    high = PriorityFactory(name="High", rank=3)
    target = TicketFactory(queue=queue)
    merged = workflow.merge_ticket(TicketFactory(queue=queue), into=target, by=None)
    response = bulk(agent_client, [merged], "priority", priority=high.pk)
    assert notes(response) == [
        f"1 request not changed: {merged.number} was merged into {target.number} and is read-only."
    ]


def test_bulk_move_to_another_of_ones_queues(agent_client, agent, queue):
    second = QueueFactory(name="Second line")
    second.members.add(agent)
    ticket = TicketFactory(queue=queue)
    bulk(agent_client, [ticket], "queue", queue=second.pk)
    moved = refreshed(ticket)
    assert moved.queue == second and moved.stage.state == Stage.State.NEW


def test_bulk_move_to_a_foreign_queue_is_refused(agent_client, queue, other_queue):
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "queue", queue=other_queue.pk)
    assert "queue" in response.context["bulk_form"].errors
    assert refreshed(ticket).queue == queue


def test_bulk_set_tags(agent_client, queue):
    ticket = TicketFactory(queue=queue, tags=["old"])
    bulk(agent_client, [ticket], "tags", tags="vip, printer ,")
    assert sorted(t.name for t in refreshed(ticket).tags.all()) == ["printer", "vip"]
    response = bulk(agent_client, [ticket], "tags", tags=" , ")
    assert "tags" in response.context["bulk_form"].errors


def test_bulk_close_says_resolved_and_refuses_closed_ones(agent_client, queue):
    closed = workflow.close_ticket(TicketFactory(queue=queue), resolved=False, by=None)
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket, closed], "close", resolved="yes")
    assert notes(response) == [
        "Closed 1 request.",
        f"1 request not changed: {closed.number} is already closed.",
    ]
    assert refreshed(ticket).resolved is True
    assert refreshed(closed).resolved is False


def test_bulk_close_needs_resolved(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "close")
    assert "resolved" in response.context["bulk_form"].errors
    assert refreshed(ticket).is_open


def test_bulk_merge_into_a_selected_request(agent_client, queue):
    target, first, second = (TicketFactory(queue=queue) for _ in range(3))
    response = bulk(agent_client, [target, first, second], "merge", merge_into=target.number)
    assert notes(response) == ["Merged 2 requests."]
    assert {refreshed(t).merged_into for t in (first, second)} == {target}
    assert refreshed(target).is_open


def test_bulk_merge_of_only_the_kept_request_says_what_is_missing(agent_client, queue):
    target = TicketFactory(queue=queue)
    response = bulk(agent_client, [target], "merge", merge_into=target.number)
    assert notes(response) == ["Select the requests to merge as well as the one to keep."]
    assert refreshed(target).is_open


def test_bulk_action_returns_to_the_same_page_of_the_list(agent_client, agent, queue):
    ticket = TicketFactory(queue=queue)
    data = {"tickets": [ticket.pk], "action": "assign", "owner": agent.pk}
    response = agent_client.post(BULK, {**data, "query": "sort=subject&page=2&q="})
    assert response.url == f"{URL}?sort=subject&page=2"


def test_bulk_merge_into_a_merged_request_is_refused(agent_client, queue):
    survivor = TicketFactory(queue=queue)
    gone = workflow.merge_ticket(TicketFactory(queue=queue), into=survivor, by=None)
    ticket = TicketFactory(queue=queue)
    response = bulk(agent_client, [ticket], "merge", merge_into=gone.number)
    assert f"was itself merged into {survivor.number}" in notes(response)[0]
    assert refreshed(ticket).merged_into is None


def test_bulk_merge_into_a_foreign_or_unknown_number_is_a_field_error(
    agent_client, queue, other_queue
):
    foreign = TicketFactory(queue=other_queue)
    ticket = TicketFactory(queue=queue)
    for number in (foreign.number, "NOPE-1"):
        response = bulk(agent_client, [ticket], "merge", merge_into=number)
        assert "that you can see" in response.context["bulk_form"].errors["merge_into"][0]
    assert refreshed(foreign).merged_into is None and refreshed(ticket).merged_into is None


def test_bulk_action_on_a_foreign_request_is_404_and_changes_nothing(
    agent_client, agent, queue, other_queue
):
    mine = TicketFactory(queue=queue)
    foreign = TicketFactory(queue=other_queue)
    response = bulk(agent_client, [mine, foreign], "close", resolved="yes")
    assert response.status_code == 404
    assert refreshed(mine).is_open and refreshed(foreign).is_open


def test_bulk_action_on_unknown_or_malformed_ids_is_404(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    for ids in ([ticket.pk, 999999], [ticket.pk, "x"]):
        data = {"tickets": ids, "action": "close", "resolved": "yes"}
        assert agent_client.post(BULK, data).status_code == 404
    assert refreshed(ticket).is_open


def test_bulk_action_without_a_selection_says_so(agent_client, queue):
    response = agent_client.post(BULK, {"action": "close", "resolved": "yes", "query": "q=x"})
    assert response.url == f"{URL}?q=x"
    assert notes(response) == ["Select at least one request first."]


def test_bulk_action_without_an_action_is_a_form_error(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    response = agent_client.post(BULK, {"tickets": [ticket.pk], "action": "explode"})
    assert "action" in response.context["bulk_form"].errors
    assert "Choose an action" in response.text


def test_bulk_is_post_only(agent_client, queue):
    assert agent_client.get(BULK).status_code == 405


def test_huge_lists_are_counted_only_up_to_a_cap(agent_client, queue, monkeypatch):
    monkeypatch.setattr(lists, "COUNT_CAP", 4)
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    for n in range(6):
        TicketFactory(queue=queue, subject=f"Request {n}")
    response = agent_client.get(URL)
    assert response.context["page"].paginator.capped
    assert response.context["page"].paginator.num_pages == 2
    assert "More than 4 requests" in response.text
    assert "Only the first 4 can be paged through" in response.text
    # A page past the cap shows the last one that can be reached.
    assert response.context["page"].number == 1
    assert agent_client.get(URL, {"page": 9}).context["page"].number == 2


def test_lists_under_the_cap_show_their_exact_count(agent_client, queue, monkeypatch):
    monkeypatch.setattr(lists, "COUNT_CAP", 4)
    for n in range(4):
        TicketFactory(queue=queue, subject=f"Request {n}")
    response = agent_client.get(URL)
    assert not response.context["page"].paginator.capped
    assert "4 requests" in response.text and "More than" not in response.text


def test_sorts_without_an_index_order_the_newest_requests_and_say_so(
    agent_client, queue, monkeypatch
):
    monkeypatch.setattr(filters, "SORTED_LIMIT", 3)
    monkeypatch.setattr(lists, "SORTED_LIMIT", 3)
    for subject in ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]:  # Alpha is the newest
        TicketFactory(queue=queue, subject=subject)
    response = agent_client.get(URL, {"sort": "subject"})
    assert [t.subject for t in response.context["page"]] == ["Alpha", "Bravo", "Charlie"]
    assert "Sorted among the newest 3" in response.text
    assert "The 3 newest requests, sorted" in response.text
    # An indexed order goes through all of them, and says nothing.
    response = agent_client.get(URL, {"sort": "-number"})
    assert len(response.context["page"]) == 5
    assert "Sorted among the newest" not in response.text


def test_sorting_a_list_shorter_than_the_limit_sorts_all_of_it(agent_client, queue):
    for subject in ["Echo", "Alpha", "Charlie"]:
        TicketFactory(queue=queue, subject=subject)
    response = agent_client.get(URL, {"sort": "-subject"})
    assert [t.subject for t in response.context["page"]] == ["Echo", "Charlie", "Alpha"]
    assert "Sorted among the newest" not in response.text
