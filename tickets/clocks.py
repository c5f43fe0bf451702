"""Time arithmetic for the request clocks (deadline, alert time, escalation times).

Pure functions: no database, no "now" of their own. A queue with a business-hours
calendar counts only the minutes it is open; a queue without one (calendar None) counts
wall-clock minutes. The workflow loads a queue's calendar into a `Calendar` and passes it
in, so everything here can be tested with plain values.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
# A calendar whose opening hours are all on holidays could make a search run forever;
# ten years without a single open minute means it never opens.
MAX_CLOSED_DAYS = 3660
MIDNIGHT = time(0)


@dataclass(frozen=True)
class Calendar:
    """Weekly opening hours in a time zone, minus holidays.

    `hours` maps a weekday (0 = Monday) to (opens, closes) local times; closes at 00:00
    means open until midnight. `holidays` are closed dates; `yearly_holidays` are
    (month, day) pairs closed every year.
    """

    zone: ZoneInfo
    hours: dict[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    yearly_holidays: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        zone: str,
        hours: Iterable[tuple[int, time, time]],
        holidays: Iterable[date] = (),
        yearly_holidays: Iterable[tuple[int, int]] = (),
    ) -> "Calendar":
        by_day: dict[int, list[tuple[time, time]]] = {}
        for weekday, opens, closes in hours:
            by_day.setdefault(weekday, []).append((opens, closes))
        return cls(
            zone=ZoneInfo(zone),
            hours={day: tuple(sorted(spans)) for day, spans in by_day.items()},
            holidays=frozenset(holidays),
            yearly_holidays=frozenset(yearly_holidays),
        )

    @property
    def ever_open(self) -> bool:
        return any(self.hours.values())

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The moments the calendar is open on a local date, as UTC datetimes.

        Built from local wall times, so a day with a DST change has its real length: an
        opening span across the lost hour is an hour shorter."""
        if self.is_holiday(day):
            return []
        spans = []
        for opens, closes in self.hours.get(day.weekday(), ()):
            start = _local(day, opens, self.zone)
            end = _local(day + timedelta(days=1), MIDNIGHT, self.zone)
            if closes != MIDNIGHT:
                end = _local(day, closes, self.zone)
            if end > start:
                spans.append((start, end))
        return spans


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # In UTC: subtracting two datetimes of one ZoneInfo gives wall-clock time, which is an
    # hour off across a DST change. A wall time the change skips becomes the moment after
    # the gap.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _spans_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open spans that end after `start`, in order, clipped to begin no earlier than it."""
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    closed_days = 0
    while closed_days <= MAX_CLOSED_DAYS:
        found = False
        for span_start, span_end in calendar.open_spans(day):
            if span_end <= start:
                continue
            found = True
            yield max(span_start, start), span_end
        closed_days = 0 if found else closed_days + 1
        day += timedelta(days=1)
    raise ValueError("The business-hours calendar never opens.")


def add_business_time(
    start: datetime, duration: timedelta, calendar: Calendar | None = None
) -> datetime:
    """The moment after `start` when `duration` of open time has passed (in UTC)."""
    start = start.astimezone(UTC)
    if calendar is None or not calendar.ever_open:
        return start + duration
    if duration <= timedelta(0):
        return start
    left = duration
    for span_start, span_end in _spans_from(calendar, start):
        if left <= span_end - span_start:
            return span_start + left
        left -= span_end - span_start
    raise AssertionError("unreachable: _spans_from raises when the calendar never opens")


def business_time_between(
    start: datetime, end: datetime, calendar: Calendar | None = None
) -> timedelta:
    """How much open time lies between two moments (zero when end is not after start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if calendar is None or not calendar.ever_open:
        return end - start
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        for span_start, span_end in calendar.open_spans(day):
            overlap = min(span_end, end) - max(span_start, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def add_minutes(
    start: datetime, minutes: int | None, calendar: Calendar | None = None
) -> datetime | None:
    """The moment `minutes` (business minutes, with a calendar) after `start`, or None
    when no time is set."""
    if minutes is None:
        return None
    return add_business_time(start, timedelta(minutes=minutes), calendar)
