"""Time arithmetic for the request clocks (deadline, alert time). Pure functions: no
database, no "now" of their own."""

from datetime import datetime, timedelta


def add_minutes(start: datetime, minutes: int | None) -> datetime | None:
    """The moment `minutes` after `start`, or None when no time is set."""
    if minutes is None:
        return None
    return start + timedelta(minutes=minutes)
