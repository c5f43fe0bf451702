from django.conf import settings
from django.db import models


class Report(models.Model):
    """No table: the permission to read the reports hangs on it."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can see the reports")]

    def __str__(self):
        return "Reports"


class ScheduledReport(models.Model):
    """A report mailed (as XLSX) to recipients every day, week or month, over the period
    just ended, with its owner's filters and as its owner may see it."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Every day (yesterday)"
        WEEKLY = "weekly", "Every Monday (the last 7 days)"
        MONTHLY = "monthly", "Every 1st (the last month)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduled_reports"
    )
    report = models.CharField(max_length=20)
    filters = models.CharField(max_length=1000, blank=True, help_text="As in the page's URL.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    recipients = models.TextField(help_text="Comma-separated addresses.")
    is_active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["report", "pk"]
        # beat's step reads the active schedules that are due
        indexes = [
            models.Index(
                fields=["next_run_at"],
                name="report_schedule_due",
                condition=models.Q(is_active=True),
            )
        ]

    def __str__(self):
        return f"{self.report}, {self.get_frequency_display().lower()}"


class ReportRun(models.Model):
    """One mailing of a scheduled report: the history its owner reads."""

    schedule = models.ForeignKey(ScheduledReport, on_delete=models.CASCADE, related_name="runs")
    ran_at = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-ran_at", "-pk"]

    def __str__(self):
        return f"{self.schedule} at {self.ran_at:%Y-%m-%d %H:%M}"
