"""Scheduled reports: when they run and over which days, mailed once through the outbox
with the XLSX of the owner's view, and a run that cannot be made logged, not mailed."""

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from openpyxl import load_workbook

from mailgateway.models import OutgoingMail
from reports import schedules
from reports.models import ScheduledReport
from tests.factories import QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db
F = ScheduledReport.Frequency


def local(*parts):
    return datetime(*parts, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def owner(agent):
    agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return agent


@pytest.mark.parametrize(
    "frequency,after,expected",
    [
        (F.DAILY, local(2026, 3, 10, 5, 0), local(2026, 3, 10, 6, 0)),
        (F.DAILY, local(2026, 3, 10, 6, 0), local(2026, 3, 11, 6, 0)),
        (F.WEEKLY, local(2026, 3, 11, 9, 0), local(2026, 3, 16, 6, 0)),  # a Wednesday
        (F.MONTHLY, local(2026, 12, 15, 9, 0), local(2027, 1, 1, 6, 0)),
    ],
)
def test_the_next_mailing(frequency, after, expected):
    assert schedules.next_run(frequency, after) == expected


def test_the_period_is_the_one_just_ended():
    assert schedules.period_before(F.MONTHLY, local(2026, 3, 1, 6)) == (
        local(2026, 2, 1),
        local(2026, 3, 1),
    )
    assert schedules.period_before(F.DAILY, local(2026, 3, 1, 6)) == (
        local(2026, 2, 28),
        local(2026, 3, 1),
    )


def test_a_due_report_is_mailed_once_with_its_numbers(owner, queue):
    schedule = schedules.schedule_report(
        owner=owner, report="insights", filters=QueryDict("by=day&start=2020-01-01"),
        frequency=F.DAILY, recipients="lead@example.test",
    )  # fmt: skip
    start, _ = schedules.period_before(F.DAILY, schedule.next_run_at)
    # inside the period, and not in the future whatever the time of day the test runs
    within = min(start + timedelta(hours=3), start + (timezone.now() - start) / 2)
    TicketFactory(queue=queue, by=owner, now=within)
    TicketFactory(queue=QueueFactory(), by=owner, now=within)  # not the owner's
    assert schedule.filters == "by=day"  # its period is always the one just ended
    now = schedule.next_run_at + timedelta(minutes=1)
    assert schedules.run_due(now=now) == 1
    assert schedules.run_due(now=now) == 0
    [mail] = OutgoingMail.objects.filter(kind="report")
    assert mail.to == ["lead@example.test"]
    run = schedule.runs.get()
    assert (run.rows, run.error) == (1, "")
    sheet = load_workbook(BytesIO(schedules.exports.xlsx_bytes(
        schedules._table(schedule, run.period_start, run.period_end)
    ))).active  # fmt: skip
    assert list(sheet.iter_rows(values_only=True))[1][1:] == (1, 0)


def test_a_report_its_owner_may_no_longer_read_is_logged_not_mailed(owner):
    schedule = schedules.schedule_report(
        owner=owner, report="backlog", filters=QueryDict(), frequency=F.WEEKLY,
        recipients="lead@example.test",
    )  # fmt: skip
    owner.user_permissions.clear()
    schedules.run_due(now=schedule.next_run_at)
    assert "may no longer read reports" in schedule.runs.get().error
    assert not OutgoingMail.objects.filter(kind="report").exists()


def test_bad_recipients_or_report_are_refused(owner):
    with pytest.raises(ValidationError, match="not an email address"):
        schedules.schedule_report(
            owner=owner, report="backlog", filters=QueryDict(), frequency=F.DAILY,
            recipients="lead@, boss",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="no report"):
        schedules.schedule_report(
            owner=owner, report="nothing", filters=QueryDict(), frequency=F.DAILY,
            recipients="a@example.test",
        )  # fmt: skip
    assert not ScheduledReport.objects.exists()


def test_scheduling_from_the_page_and_the_run_history(agent_client, owner):
    answer = agent_client.post(
        "/desk/reports/analysis/schedule/",
        {"filters": "channel=phone", "frequency": "monthly", "recipients": "a@example.test"},
    )
    assert answer.status_code == 302
    schedule = ScheduledReport.objects.get()
    assert (schedule.report, schedule.filters) == ("analysis", "channel=phone")
    schedules.run_due(now=schedule.next_run_at)
    page = agent_client.get("/desk/reports/scheduled/").content.decode()
    assert "rows mailed" in page
    refused = agent_client.post(
        "/desk/reports/analysis/schedule/", {"frequency": "monthly", "recipients": "nope"}
    )
    assert refused.status_code == 302
    assert ScheduledReport.objects.count() == 1
