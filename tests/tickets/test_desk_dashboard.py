"""The dashboard: counts for the agent's queues and the created-vs-closed chart."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    AdminFactory,
    ContactFactory,
    PriorityFactory,
    QueueFactory,
    QueuePriorityTimeFactory,
    StatusFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.views.desk.dashboard import created_vs_closed

pytestmark = pytest.mark.django_db

URL = "/desk/dashboard/"


def days_ago(days: int, hour: int = 12) -> datetime:
    day = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_counts_cover_only_open_requests_in_my_queues(agent_client, agent, queue):
    QueuePriorityTimeFactory(queue=queue, priority=queue.default_priority, completion_minutes=60)
    mine = TicketFactory(queue=queue)
    workflow.assign_ticket(mine, owner=agent, by=agent)
    TicketFactory(queue=queue, now=days_ago(2))  # unassigned and past its deadline
    workflow.close_ticket(TicketFactory(queue=queue), resolved=True, by=agent)
    TicketFactory.create_batch(3, queue=QueueFactory(name="Not mine"))
    response = agent_client.get(URL)
    totals = response.context["totals"]
    assert totals == {"open": 2, "mine": 1, "unassigned": 1, "overdue": 1}
    assert [(q.name, q.open_count) for q in response.context["queues"]] == [("Support", 2)]
    assert "Not mine" not in response.content.decode()


def test_a_queue_i_reach_through_two_teams_is_counted_once(client, agent):
    red, blue = TeamFactory(), TeamFactory()
    agent.groups.add(red, blue)
    queue = QueueFactory(name="Shared")
    queue.teams.add(red, blue)
    queue.members.add(agent)
    TicketFactory.create_batch(2, queue=queue)
    client.force_login(agent)
    response = client.get(URL)
    assert [(q.name, q.open_count) for q in response.context["queues"]] == [("Shared", 2)]
    assert response.context["totals"]["open"] == 2


def test_open_requests_are_broken_down_by_status_and_priority(agent_client, agent, queue):
    waiting = StatusFactory(name="Waiting for customer")
    high = PriorityFactory(name="High", rank=3, color="danger")
    TicketFactory(queue=queue, priority=high)
    postponed = TicketFactory(queue=queue)
    workflow.change_status(
        postponed, status=waiting, postponed_until=timezone.now() + timedelta(days=1), by=agent
    )
    response = agent_client.get(URL)
    by_status = {row["status__name"]: row["count"] for row in response.context["by_status"]}
    by_priority = [(row["priority__name"], row["count"]) for row in response.context["by_priority"]]
    assert by_status == {"Active": 1, "Waiting for customer": 1}
    assert by_priority == [("High", 1), ("Medium", 1)]


def test_each_count_links_to_the_list_filtered_the_same_way(agent_client, queue):
    ticket = TicketFactory(queue=queue)
    page = agent_client.get(URL).content.decode()
    for link in [
        f"/desk/requests/?queue={queue.pk}&amp;open=1",
        f"/desk/requests/?status={ticket.status_id}&amp;open=1",
        f"/desk/requests/?priority={ticket.priority_id}&amp;open=1",
        "/desk/requests/?owner=nobody&amp;open=1",
        "/desk/requests/?owner=me&amp;open=1",
        "/desk/requests/?overdue=1",
    ]:
        assert link in page, link


def test_staff_see_every_queue(client, queue):
    TicketFactory(queue=queue)
    TicketFactory(queue=QueueFactory())
    client.force_login(AdminFactory())
    assert client.get(URL).context["totals"]["open"] == 2


def test_an_agent_without_queues_sees_zeros(client, queue):
    TicketFactory(queue=queue)
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.context["totals"]["open"] == 0
    assert "You are in no queue yet." in response.content.decode()


def test_the_chart_counts_created_and_closed_per_day_over_30_days(agent_client, queue):
    for when in [days_ago(3), days_ago(3, hour=9), days_ago(0, hour=0), days_ago(40)]:
        TicketFactory(queue=queue, now=when)
    closing = TicketFactory(queue=queue, now=days_ago(35))
    workflow.close_ticket(closing, resolved=True, by=None, now=days_ago(3))
    TicketFactory(queue=QueueFactory(), now=days_ago(3))
    chart = agent_client.get(URL).context["chart"]
    counts = {d["date"]: {b["kind"]: b["count"] for b in d["bars"]} for d in chart.days}
    assert len(chart.days) == 30 and chart.days[-1]["date"] == timezone.localdate()
    assert counts[days_ago(3).date()] == {"created": 2, "closed": 1}
    assert counts[timezone.localdate()] == {"created": 1, "closed": 0}
    assert (chart.total_created, chart.total_closed) == (3, 1)


@pytest.mark.parametrize("rows", [3, 30])
def test_dashboard_query_count_does_not_grow_with_requests(
    agent_client, queue, rows, django_assert_max_num_queries
):
    for back in range(rows):
        ticket = TicketFactory(queue=queue, now=days_ago(back % 30))
        if back % 3 == 0:
            workflow.close_ticket(ticket, resolved=True, by=None)
    with django_assert_max_num_queries(10):
        response = agent_client.get(URL)
    assert response.status_code == 200


def test_the_dashboard_refreshes_its_panels_in_place(agent_client, queue):
    response = agent_client.get(URL, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="dashboard-panels"') and "<nav" not in page


def test_the_dashboard_is_for_agents_only(client):
    portal_user = UserFactory()
    ContactFactory(user=portal_user)
    assert client.get(URL).status_code == 302
    client.force_login(portal_user)
    assert client.get(URL).status_code == 403


def test_chart_bars_scale_to_the_busiest_day():
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(30)]
    chart = created_vs_closed({days[0]: 4, days[1]: 2}, {days[1]: 1}, days)
    first, second = chart.days[0]["bars"], chart.days[1]["bars"]
    assert first[0]["height"] == chart.plot_height and first[0]["y"] == chart.top
    assert second[0]["height"] == chart.plot_height / 2 and second[1]["count"] == 1
    assert [line["value"] for line in chart.gridlines] == [0, 2, 4]
    assert [d["labelled"] for d in chart.days].count(True) == 6 and chart.days[-1]["labelled"]


def test_an_empty_chart_still_has_a_scale():
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(30)]
    chart = created_vs_closed({}, {}, days)
    assert [line["value"] for line in chart.gridlines] == [0, 1, 2]
    assert all(bar["height"] == 0 for day in chart.days for bar in day["bars"])
