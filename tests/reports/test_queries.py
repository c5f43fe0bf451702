"""The reports' numbers, from requests placed in time through the workflow."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import charges, invoicing
from billing.models import Invoice
from reports import queries
from reports.queries import Backlog, Bucket, Spread
from tests.factories import (
    ContactFactory,
    QueueFactory,
    QueuePriorityTimeFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.access import visible_tickets
from tickets.models import BusinessCalendar, Channel, OpeningHours

pytestmark = pytest.mark.django_db
D = Decimal
T = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T + timedelta(hours=hours)


def request(queue, agent, *, hours: float = 0, **kwargs):
    return TicketFactory(queue=queue, by=agent, now=at(hours), **kwargs)


def reply(ticket, agent, hours: float):
    return workflow.reply_to_customer(ticket, by=agent, body="On it.", now=at(hours))


def close(ticket, agent, hours: float, *, resolved: bool = True):
    return workflow.close_ticket(ticket, resolved=resolved, by=agent, now=at(hours))


# The period ------------------------------------------------------------------------------


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends .* before it starts"):
        queries.check_period(MARCH[1], MARCH[0])


def test_an_empty_period_is_refused():
    with pytest.raises(ValueError, match="empty"):
        queries.check_period(MARCH[0], MARCH[0])


def test_a_period_over_five_years_is_refused_and_five_years_is_not():
    start = datetime(2020, 2, 29, tzinfo=UTC)
    assert queries.check_period(start, datetime(2025, 2, 28, tzinfo=UTC))
    with pytest.raises(ValueError, match="longer than 5 years"):
        queries.check_period(start, datetime(2025, 3, 1, tzinfo=UTC))


def test_a_period_without_time_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        queries.check_period(datetime(2024, 3, 1), datetime(2024, 4, 1))  # noqa: DTZ001


def test_every_report_checks_its_period(queue):
    inverted = (MARCH[1], MARCH[0])
    for report in (
        queries.analysis_by_queue,
        queries.summary_by_contact,
        queries.summary_by_company,
        queries.agent_performance,
    ):
        with pytest.raises(ValueError):
            report(visible_tickets(UserFactory()), inverted)


# Insights: created vs closed ---------------------------------------------------------------


def test_created_and_closed_per_day_with_empty_days(queue, agent):
    first = request(queue, agent)
    request(queue, agent, hours=2)
    close(first, agent, hours=48)
    period = (datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 7, tzinfo=UTC))
    rows = queries.created_vs_closed(visible_tickets(agent), period, by="day", tz=UTC)
    assert rows == [
        Bucket(date(2024, 3, 4), created=2, closed=0),
        Bucket(date(2024, 3, 5), created=0, closed=0),
        Bucket(date(2024, 3, 6), created=0, closed=1),
    ]


def test_a_request_at_23_30_utc_counts_on_the_next_day_in_berlin(queue, agent):
    late = T.replace(hour=23, minute=30)
    TicketFactory(queue=queue, by=agent, now=late)
    period = (datetime(2024, 3, 4, tzinfo=BERLIN), datetime(2024, 3, 6, tzinfo=BERLIN))
    in_berlin = queries.created_vs_closed(visible_tickets(agent), period, by="day", tz=BERLIN)
    in_utc = queries.created_vs_closed(visible_tickets(agent), period, by="day", tz=UTC)
    assert [(b.starts, b.created) for b in in_berlin] == [
        (date(2024, 3, 4), 0),
        (date(2024, 3, 5), 1),
    ]
    assert (date(2024, 3, 4), 1) in [(b.starts, b.created) for b in in_utc]


def test_weeks_start_on_monday_and_months_on_the_first(queue, agent):
    request(queue, agent, hours=-24)  # Sunday 3 March
    request(queue, agent, hours=24 * 8)  # Tuesday 12 March
    tickets = visible_tickets(agent)
    weeks = queries.created_vs_closed(tickets, MARCH, by="week", tz=UTC)
    assert [(b.starts, b.created) for b in weeks] == [
        (date(2024, 2, 26), 1),
        (date(2024, 3, 4), 0),
        (date(2024, 3, 11), 1),
        (date(2024, 3, 18), 0),
        (date(2024, 3, 25), 0),
    ]
    months = queries.created_vs_closed(tickets, (MARCH[0], MARCH[1] + HOUR), by="month", tz=UTC)
    assert [(b.starts, b.created) for b in months] == [(date(2024, 3, 1), 2), (date(2024, 4, 1), 0)]


def test_an_unknown_grouping_is_refused(agent):
    with pytest.raises(ValueError, match="day, week or month"):
        queries.created_vs_closed(visible_tickets(agent), MARCH, by="hour", tz=UTC)


# Analysis per queue ------------------------------------------------------------------------


@pytest.fixture
def worked_queue(queue, agent):
    """Six requests of March with known outcomes, times and charges; alert after 1 h,
    completion after 8 h."""
    QueuePriorityTimeFactory(queue=queue, priority=queue.default_priority)
    kept = request(queue, agent)  # answered after 1 h, left New in time, closed after 2 h
    reply(kept, agent, 1)
    workflow.progress_ticket(kept, by=agent, now=at(0.5))
    charges.add_charge(
        kept, by=agent, description="Setup", unit_price=D(100), quantity=D(2),
        discount_percent=D(10), now=at(1),
    )  # fmt: skip
    charges.add_charge(
        kept, by=agent, description="Call-out", unit_price=D("35.50"), quantity=D(1), now=at(1)
    )
    close(kept, agent, 2)
    late = request(queue, agent)  # alerted, answered after 3 h, closed unresolved after 10 h
    [late] = workflow.raise_alerts([late], now=at(1.1))
    reply(late, agent, 3)
    close(late, agent, 10, resolved=False)
    merged = request(queue, agent)
    workflow.merge_ticket(merged, into=kept, by=agent, now=at(0.2))
    workflow.delete_ticket(request(queue, agent), by=agent, now=at(0.2))
    waiting = request(queue, agent)  # still New and open at 9 h: both times passed
    charges.add_charge(
        waiting, by=agent, description="Parts", unit_price=D(20), quantity=D(3), currency="USD"
    )
    request(queue, agent, hours=-24 * 10)  # February: outside the period
    return queue


def test_analysis_counts_requests_by_final_outcome(worked_queue, agent):
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(9))
    assert (row.queue, row.total, row.resolved, row.unresolved) == ("Support", 5, 1, 1)
    assert (row.merged, row.deleted, row.open) == (1, 1, 1)


def test_analysis_measures_median_and_p90_times(worked_queue, agent):
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(9))
    # first replies after 1 h and 3 h; closes after 2 h and 10 h (interpolated p90)
    assert row.to_first_reply == Spread(median=7200.0, p90=3600 + 0.9 * 7200)
    assert row.to_close == Spread(median=6 * 3600.0, p90=7200 + 0.9 * 8 * 3600)


def test_analysis_counts_alert_and_completion_times_kept_and_missed(worked_queue, agent):
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(9))
    assert (row.alert_met, row.alert_breached) == (1, 2)
    assert (row.completion_met, row.completion_breached) == (1, 2)


def test_requests_within_their_times_have_kept_and_missed_nothing_yet(worked_queue, agent):
    # at 30 minutes the waiting request is within both times; the sweep's alert stays
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(0.5))
    assert (row.alert_met, row.alert_breached) == (1, 1)
    assert (row.completion_met, row.completion_breached) == (1, 1)


def test_analysis_sums_charges_net_per_currency(worked_queue, agent):
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(9))
    # 2 × 100 less 10 % + 35.50; the USD parts 3 × 20
    assert row.charges == {"EUR": D("215.50"), "USD": D("60.00")}


def test_analysis_counts_only_the_queues_the_reader_sees(worked_queue, agent):
    request(QueueFactory(name="Billing"), agent)
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=at(9))
    assert row.queue == "Support"
    everything = queries.analysis_by_queue(visible_tickets(UserFactory(is_staff=True)), MARCH)
    assert [(r.queue, r.total) for r in everything] == [("Billing", 1), ("Support", 5)]


def test_a_queue_without_replies_has_no_times(queue, agent):
    request(queue, agent)
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH)
    assert row.to_first_reply == Spread(None, None)
    assert (row.alert_met, row.completion_met, row.charges) == (0, 0, {})


# Summary per contact and company ---------------------------------------------------------


def test_summary_by_contact_and_company_with_charges_and_invoices(queue, agent):
    alice = ContactFactory(name="Alice", company__name="Acme")
    bob = ContactFactory(name="Bob", company=alice.company)
    for resolved in (True, False):
        paid = request(queue, agent, contact=alice)
        charges.add_charge(paid, by=agent, description="Fix", unit_price=D(50), quantity=D(1))
        close(paid, agent, 1, resolved=resolved)  # only the resolved one is invoiced
    request(queue, agent, contact=alice)
    cancelled = request(queue, agent, contact=bob)
    charges.add_charge(cancelled, by=agent, description="Fix", unit_price=D(40), quantity=D(1))
    close(cancelled, agent, 1)
    invoicing.issue_credit_note(Invoice.objects.get(ticket=cancelled), by=agent, reason="Goodwill")

    tickets = visible_tickets(agent)
    first, second = queries.summary_by_contact(tickets, MARCH)
    assert (first.name, first.open, first.closed, first.resolved) == ("Alice", 1, 2, 1)
    assert first.resolved_rate == 0.5
    assert (first.charges, first.invoiced) == ({"EUR": D("100.00")}, {"EUR": D("50.00")})
    assert (second.name, second.resolved_rate, second.invoiced) == ("Bob", 1.0, {})
    [acme] = queries.summary_by_company(tickets, MARCH)
    assert (acme.name, acme.open, acme.closed, acme.resolved) == ("Acme", 1, 3, 2)
    assert (acme.charges, acme.invoiced) == ({"EUR": D("140.00")}, {"EUR": D("50.00")})


def test_a_limited_summary_is_the_first_rows_by_name_with_their_money(queue, agent):
    for name in ("Carol", "", "Alice", "Bob"):  # "": shown by the address
        contact = ContactFactory(name=name, email=f"{name or 'zed'}@example.test")
        paid = request(queue, agent, contact=contact)
        charges.add_charge(paid, by=agent, description="Fix", unit_price=D(10), quantity=D(1))
    request(queue, agent, contact=None, channel=Channel.INTERNAL)  # no contact: last
    tickets = visible_tickets(agent)
    every = queries.summary_by_contact(tickets, MARCH)
    assert [row.name for row in every] == ["Alice", "Bob", "Carol", "zed@example.test", ""]
    assert every[-1].id is None
    first = queries.summary_by_contact(tickets, MARCH, limit=2)
    assert [(row.name, row.charges) for row in first] == [
        ("Alice", {"EUR": D("10.00")}),
        ("Bob", {"EUR": D("10.00")}),
    ]


def test_a_contact_with_nothing_closed_has_no_resolved_rate(queue, agent):
    request(queue, agent)
    [row] = queries.summary_by_contact(visible_tickets(agent), MARCH)
    assert (row.open, row.closed, row.resolved_rate) == (1, 0, None)


# Agent performance -------------------------------------------------------------------------


def test_agent_performance_counts_handled_replies_and_time(queue, agent):
    bob = UserFactory(first_name="Bob", last_name="Builder")
    mine = request(queue, agent, owner=agent)  # the internal counter runs from creation
    reply(mine, agent, 1)
    reply(mine, agent, 2)
    workflow.forward_to_external(mine, by=agent, to="vendor@example.test", body="?", now=at(2))
    close(mine, agent, 3)
    reply(request(queue, agent, hours=-24 * 10), agent, -24 * 9)  # a February reply
    theirs = request(queue, agent, owner=bob)
    reply(theirs, bob, 1)
    # time units: of every article written in the period, not only replies
    workflow.add_note(mine, text="Checked the logs.", time_units=15, by=agent, now=at(1.5))
    workflow.add_note(theirs, text="Ordered parts.", time_units=30, by=bob, now=at(2))
    workflow.add_note(theirs, text="February.", time_units=99, by=bob, now=at(-24 * 9))

    rows = queries.agent_performance(visible_tickets(agent), MARCH)
    assert [(r.agent, r.handled, r.replies, r.time_units) for r in rows] == [
        ("Alice Agent", 1, 2, 15),
        ("Bob Builder", 0, 1, 30),
    ]
    alice = rows[0]
    assert alice.internal_seconds + alice.external_seconds + alice.queue_seconds == 3 * 3600
    assert alice.external_seconds == 3600


# Backlog ageing --------------------------------------------------------------------------


def test_backlog_counts_open_requests_by_age(queue, agent):
    now = at(24 * 60)
    for days in (0.5, 1, 2, 5, 10, 40):
        request(queue, agent, hours=24 * 60 - 24 * days)
    close(request(queue, agent, hours=24 * 59), agent, 24 * 59 + 1)
    [row] = queries.backlog_ageing(visible_tickets(agent), now)
    assert row == Backlog(
        queue_id=queue.pk,
        queue="Support",
        under_1_day=1,
        days_1_to_3=2,  # exactly one day old is past the first day
        days_3_to_7=1,
        days_7_to_30=1,
        over_30_days=1,
    )
    assert row.total == 6


# Business hours across the night and the weekend ---------------------------------------


@pytest.fixture
def office_queue(queue):
    """Open Monday to Friday, 9:00 to 17:00 in Berlin; an hour to complete a request."""
    calendar = BusinessCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    for weekday in range(5):
        OpeningHours.objects.create(
            calendar=calendar, weekday=weekday, opens=time(9), closes=time(17)
        )
    queue.calendar = calendar
    queue.save(update_fields=["calendar"])
    QueuePriorityTimeFactory(
        queue=queue, priority=queue.default_priority, alert_minutes=None, completion_minutes=60
    )
    return queue


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=BERLIN)


def test_completion_counts_business_hours_across_the_weekend(office_queue, agent):
    # Friday 16:30: half an hour that day, the other half on Monday from 9:00
    kept = TicketFactory(queue=office_queue, by=agent, now=berlin(8, 16, 30))
    late = TicketFactory(queue=office_queue, by=agent, now=berlin(8, 16, 30))
    assert kept.deadline == berlin(11, 9, 30)
    workflow.close_ticket(kept, resolved=True, by=agent, now=berlin(11, 9, 20))  # 65 h later
    workflow.close_ticket(late, resolved=True, by=agent, now=berlin(11, 9, 40))
    [row] = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=berlin(12, 12))
    assert (row.completion_met, row.completion_breached) == (1, 1)
    # the close times are the calendar's, not the office's: 64 h 50 min and 65 h 10 min
    assert row.to_close.median == (65 * 3600.0)


def test_a_request_of_the_night_before_the_weekend(office_queue, agent):
    # Saturday 0:30 in Berlin is still Friday in UTC; the office opens on Monday at 9:00
    night = TicketFactory(queue=office_queue, by=agent, now=berlin(9, 0, 30))
    assert night.deadline == berlin(11, 10)
    period = (berlin(8, 0), berlin(11, 0))
    in_berlin = queries.created_vs_closed(visible_tickets(agent), period, by="day", tz=BERLIN)
    in_utc = queries.created_vs_closed(visible_tickets(agent), period, by="day", tz=UTC)
    assert [(b.starts.day, b.created) for b in in_berlin] == [(8, 0), (9, 1), (10, 0)]
    assert [(b.starts.day, b.created) for b in in_utc if b.created] == [(8, 1)]
    # still open on Monday at 9:59 it has missed nothing; at 10:01 it has
    missed = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=berlin(11, 10, 1))
    within = queries.analysis_by_queue(visible_tickets(agent), MARCH, now=berlin(11, 9, 59))
    assert (within[0].completion_breached, missed[0].completion_breached) == (0, 1)
