from datetime import time
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets import clocks


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/Oslo.")


class BusinessCalendar(models.Model):
    """Opening hours and holidays of a queue. Every clock of a request in a queue with a
    calendar counts only the time the calendar is open."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/Oslo",
        validators=[validate_time_zone],
        help_text="The opening hours and holidays are in this time zone.",
    )

    class Meta:
        # The tables keep the names they had when these models lived in escalation.
        db_table = "escalation_businesscalendar"
        ordering = ["name"]
        verbose_name = "business-hours calendar"

    def __str__(self):
        return self.name

    def as_calendar(self) -> clocks.Calendar:
        """The pure-arithmetic form that tickets.clocks counts with."""
        # Through .all(), so a calendar loaded with its hours and holidays prefetched (the
        # mail gateway's, once per poll) is built without a query.
        holidays = list(self.holidays.all())
        return clocks.Calendar.build(
            self.time_zone,
            [(hours.weekday, hours.opens, hours.closes) for hours in self.opening_hours.all()],
            holidays=[h.date for h in holidays if not h.every_year],
            yearly_holidays=[(h.date.month, h.date.day) for h in holidays if h.every_year],
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means open until midnight.")

    class Meta:
        db_table = "escalation_openinghours"
        ordering = ["calendar", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes=time(0)),
                name="opening_hours_close_after_open",
                violation_error_message="Closing time must be after opening time "
                "(00:00 means midnight).",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    every_year = models.BooleanField(
        default=False, help_text="Closed on this day and month every year (e.g. 25 December)."
    )

    class Meta:
        db_table = "escalation_holiday"
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_date"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()
