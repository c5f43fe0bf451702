"""Scheduled reports: made by their owner from a report's page, run by beat over the
period just ended, mailed as XLSX through the outbox, each run in the history.

`run_due` is a bounded, idempotent step: due schedules are locked one by one (skip
locked: two workers never run the same), the mail's outbox key names the schedule and
the period (a rerun is the same mail), and the next run is set before the lock is let go.
"""

from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from mailgateway import outbox
from reports import exports
from reports.forms import ReportForm
from reports.models import ReportRun, ScheduledReport
from reports.tables import REPORTS
from tickets.access import visible_tickets
from tickets.forms.request import address_list

Frequency = ScheduledReport.Frequency
MAILED_AT = time(6)  # in the morning, local time, for the period that ended at midnight
# Fields of the page that a schedule keeps; its period is always the one just ended.
KEPT = ("queue", "priority", "category", "channel", "tag", "company", "by")


def next_run(frequency: str, after: datetime) -> datetime:
    """The first mailing time after `after`: 06:00 local of the next day, the next
    Monday, or the next 1st of a month."""
    day = timezone.localtime(after).date()
    if frequency == Frequency.DAILY:
        candidate = day
    elif frequency == Frequency.WEEKLY:
        candidate = day - timedelta(days=day.weekday())
    else:
        candidate = day.replace(day=1)
    step = {
        Frequency.DAILY: relativedelta(days=1),
        Frequency.WEEKLY: relativedelta(weeks=1),
        Frequency.MONTHLY: relativedelta(months=1),
    }[frequency]
    while (at := timezone.make_aware(datetime.combine(candidate, MAILED_AT))) <= after:
        candidate += step
    return at


def period_before(frequency: str, run_at: datetime) -> tuple[datetime, datetime]:
    """The local days just ended: yesterday, the last 7 days, or the last month."""
    end_day = timezone.localtime(run_at).date()
    start_day = {
        Frequency.DAILY: end_day - timedelta(days=1),
        Frequency.WEEKLY: end_day - timedelta(days=7),
        Frequency.MONTHLY: end_day - relativedelta(months=1),
    }[frequency]
    start = timezone.make_aware(datetime.combine(start_day, time.min))
    return start, timezone.make_aware(datetime.combine(end_day, time.min))


def schedule_report(
    *, owner, report: str, filters: QueryDict, frequency: str, recipients: str,
    now: datetime | None = None,
) -> ScheduledReport:  # fmt: skip
    """Raises ValidationError with what to change."""
    if report not in REPORTS:
        raise ValidationError(f"There is no report “{report}”.")
    if frequency not in Frequency.values:
        raise ValidationError("Choose daily, weekly or monthly.")
    recipients = address_list(recipients)
    if not recipients:
        raise ValidationError("Name at least one recipient.")
    kept = QueryDict(mutable=True)
    for name in KEPT:
        if filters.get(name):
            kept[name] = filters[name]
    now = now or timezone.now()
    return ScheduledReport.objects.create(
        owner=owner, report=report, filters=kept.urlencode(), frequency=frequency,
        recipients=recipients, next_run_at=next_run(frequency, now), created_at=now,
    )  # fmt: skip


def run_due(*, now: datetime | None = None, limit: int = 20) -> int:
    """Mail the reports that are due, at most `limit`; returns how many ran."""
    now = now or timezone.now()
    done = 0
    for _ in range(limit):
        with transaction.atomic():
            schedule = (
                ScheduledReport.objects.select_for_update(skip_locked=True)
                .select_related("owner")
                .filter(is_active=True, next_run_at__lte=now)
                .order_by("next_run_at")
                .first()
            )
            if schedule is None:
                break
            run(schedule, run_at=schedule.next_run_at)
            schedule.next_run_at = next_run(schedule.frequency, now)
            schedule.save(update_fields=["next_run_at"])
            done += 1
    return done


def run(schedule: ScheduledReport, *, run_at: datetime) -> ReportRun:
    """One mailing; a report that cannot be made is logged in the run, not raised."""
    start, end = period_before(schedule.frequency, run_at)
    record = ReportRun(schedule=schedule, ran_at=timezone.now(), period_start=start, period_end=end)
    try:
        table = _table(schedule, start, end)
    except ValueError as error:
        record.error = str(error)
        record.save()
        return record
    title = REPORTS[schedule.report][0]
    name = f"{schedule.report}-{start:%Y-%m-%d}"
    email = EmailMessage(
        subject=f"Report: {title}, {start:%Y-%m-%d} – {end - timedelta(days=1):%Y-%m-%d}",
        body=f"{table.title}: {len(table.rows)} rows, in the attached spreadsheet.\n\n"
        "You get this because it was scheduled in the helpdesk's Reports.",
        to=[address.strip() for address in schedule.recipients.split(",")],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach(f"{name}.xlsx", exports.xlsx_bytes(table), exports.XLSX)
    outbox.enqueue(email, kind="report", key=f"report:{schedule.pk}:{start:%Y-%m-%d}")
    record.rows = len(table.rows)
    record.save()
    return record


def _table(schedule: ScheduledReport, start: datetime, end: datetime):
    owner = schedule.owner
    if not owner.is_active or not owner.has_perm("reports.view_reports"):
        raise ValueError(f"{owner} may no longer read reports.")
    data = QueryDict(schedule.filters, mutable=True)
    data["start"] = f"{timezone.localtime(start).date()}"
    data["end"] = f"{timezone.localtime(end).date() - timedelta(days=1)}"
    form = ReportForm(data, user=owner)
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise ValueError(f"The saved filters are no longer valid ({problems}).")
    build = REPORTS[schedule.report][1]
    return build(form.narrowed(visible_tickets(owner)), form.cleaned_data["period"],
                 form.cleaned_data["by"], end)  # fmt: skip
