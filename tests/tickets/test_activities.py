"""Activities: tasks on a request, scheduled, done or cancelled through the workflow; the
request page's panel and the agent's "My activities"."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.escalation.conftest import BusinessCalendarFactory
from tests.factories import (
    ActivityFactory,
    AdminFactory,
    PortalContactFactory,
    QueueFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import events, workflow
from tickets.models import Activity, DomainEvent
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, subject="Printer on fire", owner=agent, by=agent)


@pytest.fixture
def heard(monkeypatch):
    """Domain events are stored only when someone listens: a listener for this test."""
    monkeypatch.setattr(
        events, "_subscribers", {name: list(s) for name, s in events._subscribers.items()}
    )
    for name in (events.ACTIVITY_SCHEDULED, events.ACTIVITY_CLOSED):
        events.subscribe(name, lambda event: None, key="test.activities")


def schedule(ticket, agent, **kwargs):
    return workflow.schedule_activity(
        ticket, title=kwargs.pop("title", "Call back"), by=agent, **kwargs
    )


def history(ticket):
    return list(ticket.events.filter(field="activity").values_list("action", "new_value"))


# Scheduling, finishing, cancelling


def test_schedule_writes_the_activity_and_its_history(ticket, agent, heard):
    due = timezone.now() + timedelta(days=1)
    activity = schedule(ticket, agent, title="  Call back  ", assignee=agent, due_at=due)
    assert (activity.title, activity.assignee, activity.due_at) == ("Call back", agent, due)
    assert (activity.state, activity.created_by, activity.via) == ("open", agent, "")
    assert history(ticket) == [("activity_scheduled", "Call back")]
    told = DomainEvent.objects.get(ticket=ticket, name=events.ACTIVITY_SCHEDULED)
    assert told.payload == {"activity": activity.pk}


def test_complete_closes_it_once_and_writes_history(ticket, agent, heard):
    activity = schedule(ticket, agent)
    workflow.complete_activity(activity, by=agent)
    activity.refresh_from_db()
    assert (activity.state, activity.closed_by) == ("done", agent)
    assert activity.closed_at is not None
    assert history(ticket)[-1] == ("activity_done", "Call back")
    told = DomainEvent.objects.get(ticket=ticket, name=events.ACTIVITY_CLOSED)
    assert told.payload == {"activity": activity.pk, "state": "done"}


def test_cancel_writes_history(ticket, agent):
    activity = schedule(ticket, agent)
    workflow.cancel_activity(activity, by=agent)
    assert Activity.objects.get().state == "cancelled"
    assert history(ticket)[-1] == ("activity_cancelled", "Call back")


def test_closing_twice_is_refused(ticket, agent):
    activity = schedule(ticket, agent)
    stale = Activity.objects.get(pk=activity.pk)
    workflow.complete_activity(activity, by=agent)
    with pytest.raises(WorkflowError, match="“Call back” is done already"):
        workflow.cancel_activity(stale, by=agent)
    assert Activity.objects.get().state == "done"


def test_an_empty_title_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="Give the activity a title"):
        schedule(ticket, agent, title="   ")
    assert not Activity.objects.exists()


def test_a_closed_request_gets_no_new_activity(ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    with pytest.raises(WorkflowError, match="is closed; reactivate it before you schedule"):
        schedule(ticket, agent)


def test_a_closed_requests_open_activity_can_still_be_finished(ticket, agent):
    activity = schedule(ticket, agent)
    workflow.close_ticket(ticket, resolved=True, by=agent)
    workflow.complete_activity(activity, by=agent)
    assert Activity.objects.get().state == "done"


def test_a_portal_contact_is_no_assignee(ticket, agent):
    contact = PortalContactFactory(name="Carla")
    with pytest.raises(WorkflowError, match="is not an agent"):
        schedule(ticket, agent, assignee=contact.user)


def test_via_names_the_automation_that_scheduled_it(ticket):
    with workflow.automated("Rule X", rule=1):
        activity = workflow.schedule_activity(ticket, title="Call back", by=None)
    assert activity.via == "Rule X"
    assert ticket.events.get(action="activity_scheduled").via == "Rule X"


def test_the_timeline_tells_of_activities(agent_client, ticket, agent):
    workflow.complete_activity(schedule(ticket, agent), by=agent)
    page = agent_client.get(page_url(ticket)).text
    assert "scheduled: activity Call back" in page
    assert "completed: activity Call back" in page


# Closing the request


def test_open_activities_block_closing_when_the_queue_says_so(ticket, agent, queue):
    queue.open_activities_block_close = True
    queue.save()
    schedule(ticket, agent)
    schedule(ticket, agent, title="Order the part")
    with pytest.raises(WorkflowError, match=f"^{ticket.number} has 2 open activities; finish"):
        workflow.close_ticket(ticket, resolved=True, by=agent)
    ticket.refresh_from_db()
    assert ticket.is_open


def test_closing_goes_through_once_the_activities_are_finished(ticket, agent, queue):
    queue.open_activities_block_close = True
    queue.save()
    first, second = schedule(ticket, agent), schedule(ticket, agent, title="Order the part")
    workflow.complete_activity(first, by=agent)
    with pytest.raises(WorkflowError, match="has an open activity; finish or cancel it"):
        workflow.close_ticket(ticket, resolved=True, by=agent)
    workflow.cancel_activity(second, by=agent)
    workflow.close_ticket(ticket, resolved=True, by=agent)
    assert not ticket.is_open


def test_open_activities_do_not_block_closing_by_default(ticket, agent):
    schedule(ticket, agent)
    workflow.close_ticket(ticket, resolved=False, by=agent)
    assert not ticket.is_open


def test_open_activities_do_not_block_merging_or_deleting(ticket, agent, queue):
    queue.open_activities_block_close = True
    queue.save()
    schedule(ticket, agent)
    workflow.merge_ticket(ticket, into=TicketFactory(queue=queue), by=agent)
    other = TicketFactory(queue=queue)
    schedule(other, agent)
    workflow.delete_ticket(other, by=agent)
    assert (ticket.base_status, other.base_status) == ("merged", "deleted")


# Due in business hours


@pytest.fixture
def office_queue(queue):
    """Open 09:00–17:00 on weekdays, in Oslo."""
    queue.calendar = BusinessCalendarFactory()
    queue.save()
    return queue


def test_business_due_skips_the_evening(ticket, office_queue):
    tuesday_evening = datetime(2026, 3, 3, 16, 0, tzinfo=OSLO)
    due = workflow.business_due(ticket, hours=4, now=tuesday_evening)
    assert due == datetime(2026, 3, 4, 12, 0, tzinfo=OSLO)


def test_business_due_skips_the_weekend(ticket, office_queue):
    friday_afternoon = datetime(2026, 3, 6, 15, 0, tzinfo=OSLO)
    due = workflow.business_due(ticket, hours=8, now=friday_afternoon)
    assert due == datetime(2026, 3, 9, 15, 0, tzinfo=OSLO)


def test_business_due_counts_wall_clock_hours_without_a_calendar(ticket):
    friday_afternoon = datetime(2026, 3, 6, 15, 0, tzinfo=OSLO)
    assert workflow.business_due(ticket, hours=8, now=friday_afternoon) == friday_afternoon + (
        timedelta(hours=8)
    )


# The request page's panel


def page_url(ticket):
    return reverse("desk:request", args=[ticket.number])


def url(name, ticket, *args):
    return reverse(f"desk:{name}", args=[ticket.number, *args])


def flashed(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def outsider_client(client):
    client.force_login(UserFactory())
    return client


def test_the_panel_lists_open_activities_first_with_who_and_when(agent_client, ticket, agent):
    team = TeamFactory(name="Field service")
    done = schedule(ticket, agent, title="Ask for the model")
    workflow.complete_activity(done, by=agent)
    schedule(ticket, agent, title="Send a technician", team=team)
    late = schedule(ticket, agent, title="Call back", assignee=agent)
    Activity.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    page = agent_client.get(page_url(ticket)).text
    panel = page[page.index('id="activities"') :]
    assert panel.index("Call back") < panel.index("Send a technician") < panel.index("Ask for")
    assert "Field service" in panel
    assert "overdue" in panel[: panel.index("Send a technician")]
    assert "Done by Alice Agent" in panel


def test_add_schedules_an_activity(agent_client, ticket, agent):
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = agent_client.post(
        url("request_activity_add", ticket),
        {"title": "Call back", "description": "After lunch", "assignee": agent.pk, "due_at": due},
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.title, activity.description, activity.assignee) == (
        "Call back",
        "After lunch",
        agent,
    )
    assert flashed(response) == ["The activity is scheduled."]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": ""}, "Give the activity a title."),
        ({"title": "Call back", "due_at": "2020-01-01T10:00"}, "Choose a due time in the future."),
        ({"title": "Call back", "assignee": 999999}, "Choose an agent of this request"),
    ],
    ids=["empty title", "due in the past", "unknown assignee"],
)
def test_bad_input_shows_the_error_and_saves_nothing(agent_client, ticket, data, error):
    response = agent_client.post(url("request_activity_add", ticket), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert 'id="panel-activity" class="collapse show"' in response.text
    assert not Activity.objects.exists()


def test_a_refusal_shows_above_the_form(agent_client, ticket, agent):
    ticket.queue.members.add(outsider := PortalContactFactory().user)
    response = agent_client.post(
        url("request_activity_add", ticket), {"title": "Call back", "assignee": outsider.pk}
    )
    assert "is not an agent" in response.text
    assert not Activity.objects.exists()


def test_done_button_completes_it(agent_client, ticket, agent):
    activity = schedule(ticket, agent)
    response = agent_client.post(url("request_activity_done", ticket, activity.pk))
    assert response.status_code == 302
    assert Activity.objects.get().state == "done"
    assert flashed(response) == ["“Call back” is done."]


def test_cancel_button_cancels_it_and_a_second_click_is_told(agent_client, ticket, agent):
    activity = schedule(ticket, agent)
    agent_client.post(url("request_activity_cancel", ticket, activity.pk))
    response = agent_client.post(url("request_activity_done", ticket, activity.pk))
    assert Activity.objects.get().state == "cancelled"
    assert flashed(response)[-1] == "“Call back” is cancelled already."


def test_an_activity_of_another_request_is_404(agent_client, ticket, agent, queue):
    other = schedule(TicketFactory(queue=queue), agent)
    response = agent_client.post(url("request_activity_done", ticket, other.pk))
    assert response.status_code == 404
    assert Activity.objects.get().is_open


@pytest.mark.parametrize("name", ["request_activity_done", "request_activity_cancel"])
def test_an_agent_who_cannot_see_the_request_gets_404(outsider_client, ticket, agent, name):
    activity = schedule(ticket, agent)
    assert outsider_client.post(url(name, ticket, activity.pk)).status_code == 404
    response = outsider_client.post(url("request_activity_add", ticket), {"title": "Sneak"})
    assert response.status_code == 404
    assert list(Activity.objects.values_list("title", "state")) == [("Call back", "open")]


# My activities


def my_activities(client, **params):
    return client.get(reverse("desk:activities"), params)


def titles(response):
    return [activity.title for activity in response.context["page"].object_list]


def test_my_activities_lists_mine_and_my_teams_open_ones_soonest_first(agent_client, ticket, agent):
    team = TeamFactory()
    agent.groups.add(team)
    now = timezone.now()
    ActivityFactory(ticket=ticket, title="Later", assignee=agent, due_at=now + timedelta(days=2))
    ActivityFactory(ticket=ticket, title="Whenever", assignee=agent)
    ActivityFactory(ticket=ticket, title="Team's", team=team, due_at=now + timedelta(days=1))
    ActivityFactory(ticket=ticket, title="Someone else's", assignee=UserFactory())
    ActivityFactory(ticket=ticket, title="Done", assignee=agent, state="done", closed_at=now)
    response = my_activities(agent_client)
    assert titles(response) == ["Team's", "Later", "Whenever"]
    assert f'href="/desk/requests/{ticket.number}/"' in response.text


def test_my_activities_leaves_out_requests_i_cannot_see(agent_client, agent):
    ActivityFactory(ticket=TicketFactory(queue=QueueFactory()), assignee=agent)
    assert titles(my_activities(agent_client)) == []


def test_my_activities_filters_by_state_due_and_queue(agent_client, ticket, agent, queue):
    other_queue = QueueFactory()
    other_queue.members.add(agent)
    now = timezone.now()
    ActivityFactory(ticket=ticket, title="Soon", assignee=agent, due_at=now + timedelta(hours=1))
    ActivityFactory(ticket=ticket, title="Next week", assignee=agent, due_at=now + timedelta(7))
    ActivityFactory(ticket=TicketFactory(queue=other_queue), title="Elsewhere", assignee=agent)
    ActivityFactory(ticket=ticket, title="Done", assignee=agent, state="done", closed_at=now)
    day_after = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert titles(my_activities(agent_client, due_before=day_after)) == ["Soon"]
    assert titles(my_activities(agent_client, queue=other_queue.pk)) == ["Elsewhere"]
    assert titles(my_activities(agent_client, state="done")) == ["Done"]
    assert len(titles(my_activities(agent_client, state="any"))) == 4


def test_my_activities_is_in_the_navbar(agent_client):
    assert 'href="/desk/activities/" title="My activities"' in my_activities(agent_client).text


@pytest.mark.parametrize("rows", [2, 20])
def test_my_activities_query_count_does_not_grow_with_rows(
    agent_client, queue, agent, rows, django_assert_max_num_queries
):
    team = TeamFactory()
    agent.groups.add(team)
    for n in range(rows):
        ticket = TicketFactory(queue=queue)
        ActivityFactory(ticket=ticket, assignee=agent if n % 2 else None, team=team)
    with django_assert_max_num_queries(7):
        response = my_activities(agent_client)
    assert len(titles(response)) == rows


# Admin


def test_the_admin_shows_activities_read_only_and_the_queue_setting(client, ticket, agent):
    schedule(ticket, agent)
    client.force_login(AdminFactory())
    listing = client.get(reverse("admin:tickets_activity_changelist"), {"q": ticket.number})
    assert "Call back" in listing.text
    assert client.get(reverse("admin:tickets_activity_add")).status_code == 403
    assert "Call back" in client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).text
    queue_page = client.get(reverse("admin:tickets_queue_change", args=[ticket.queue_id])).text
    assert 'name="open_activities_block_close"' in queue_page
