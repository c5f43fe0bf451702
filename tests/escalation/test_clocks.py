"""tickets.clocks: pure arithmetic, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.escalation.conftest import office_hours
from tickets.clocks import Calendar, add_business_time, add_minutes, business_time_between

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def office(zone="Europe/Oslo", **kwargs) -> Calendar:
    return Calendar.build(zone, office_hours(), **kwargs)


def test_without_a_calendar_minutes_are_wall_clock_minutes():
    start = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # a Saturday night
    assert add_minutes(start, 90) == start + timedelta(minutes=90)
    assert business_time_between(start, start + timedelta(hours=5)) == timedelta(hours=5)


def test_no_minutes_means_no_due_time():
    assert add_minutes(oslo(2026, 3, 2, 10), None, office()) is None


def test_the_night_does_not_count():
    assert add_minutes(oslo(2026, 3, 2, 16, 30), 60, office()) == oslo(2026, 3, 3, 9, 30)


def test_the_weekend_does_not_count():
    friday = oslo(2026, 3, 6, 16, 0)
    assert add_minutes(friday, 120, office()) == oslo(2026, 3, 9, 10, 0)
    assert business_time_between(friday, oslo(2026, 3, 9, 10, 0), office()) == timedelta(hours=2)


def test_a_start_while_closed_counts_from_the_next_opening():
    saturday = oslo(2026, 3, 7, 12, 0)
    assert add_minutes(saturday, 30, office()) == oslo(2026, 3, 9, 9, 30)


def test_holidays_do_not_count():
    calendar = office(holidays=[date(2026, 3, 9)])
    assert add_minutes(oslo(2026, 3, 6, 16, 0), 120, calendar) == oslo(2026, 3, 10, 10, 0)


def test_a_yearly_holiday_is_closed_every_year():
    calendar = office(yearly_holidays=[(12, 25)])
    christmas_eve = oslo(2029, 12, 24, 16, 0)  # a Monday; the 25th is a Tuesday
    assert add_minutes(christmas_eve, 120, calendar) == oslo(2029, 12, 26, 10, 0)


def test_opening_hours_are_in_the_calendars_time_zone():
    start = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 17:30 in Oslo, 11:30 in New York
    assert add_minutes(start, 60, office("Europe/Oslo")) == oslo(2026, 3, 3, 10, 0)
    new_york = add_minutes(start, 60, office("America/New_York"))
    assert new_york == datetime(2026, 3, 2, 17, 30, tzinfo=UTC)


def test_business_hours_keep_local_time_across_a_dst_change():
    # Oslo moves its clocks forward on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2.
    friday = oslo(2026, 3, 27, 16, 0)
    monday = add_minutes(friday, 120, office())
    assert monday.astimezone(OSLO).time() == time(10, 0)
    assert monday == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_the_night_clocks_go_forward_is_an_hour_shorter():
    always = Calendar.build("Europe/Oslo", [(day, time(0), time(0)) for day in range(7)])
    sunday = oslo(2026, 3, 29)
    monday = oslo(2026, 3, 30)
    assert business_time_between(sunday, monday, always) == timedelta(hours=23)
    assert add_minutes(oslo(2026, 3, 29, 1, 0), 120, always) == oslo(2026, 3, 29, 4, 0)


def test_closing_at_midnight_means_open_to_the_end_of_the_day():
    evenings = Calendar.build("Europe/Oslo", [(0, time(18), time(0))])
    assert add_minutes(oslo(2026, 3, 2, 23, 0), 90, evenings) == oslo(2026, 3, 9, 18, 30)


def test_time_before_the_start_counts_nothing():
    start = oslo(2026, 3, 2, 12)
    assert business_time_between(start, start - timedelta(hours=1), office()) == timedelta(0)
    assert add_business_time(start, timedelta(0), office()) == start


def test_a_calendar_without_hours_counts_wall_clock_minutes():
    start = oslo(2026, 3, 7, 12)
    assert add_minutes(start, 30, Calendar.build("Europe/Oslo", [])) == start + timedelta(
        minutes=30
    )


def test_a_calendar_that_never_opens_is_refused():
    sundays_on_holiday = Calendar.build(
        "Europe/Oslo",
        [(6, time(9), time(17))],
        yearly_holidays=[(month, day) for month in range(1, 13) for day in range(1, 32)],
    )
    with pytest.raises(ValueError, match="never opens"):
        add_minutes(oslo(2026, 3, 2, 12), 30, sundays_on_holiday)
