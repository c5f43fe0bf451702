"""The Reports section: only for agents with the permission, each report's table on the
page and as CSV and XLSX with the same numbers, and a bad period a form error."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import CustomFieldFactory, QueueFactory, TicketFactory
from tickets import workflow
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(agent_client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return agent_client


def test_an_agent_without_the_permission_is_refused(agent_client):
    assert agent_client.get("/desk/reports/").status_code == 403


@pytest.mark.parametrize(
    "name", ["insights", "analysis", "contacts", "companies", "agents", "backlog"]
)
def test_every_report_shows_its_table(reader, queue, agent, name):
    TicketFactory(queue=queue, by=agent)
    page = reader.get(f"/desk/reports/{name}/")
    assert page.status_code == 200
    assert "<table" in page.content.decode()


def test_the_insights_count_what_the_agent_may_see_per_day(reader, queue, agent):
    today = timezone.localdate()
    closed = TicketFactory(queue=queue, by=agent)
    TicketFactory(queue=queue, by=agent)
    TicketFactory(queue=QueueFactory(), by=agent)  # not the agent's
    workflow.close_ticket(closed, resolved=True, by=agent)
    url = f"/desk/reports/insights/?start={today}&end={today}&by=day"
    csv = b"".join(reader.get(url + "&format=csv").streaming_content).decode()
    assert csv.splitlines() == ["Day,Created,Closed", f"{today},2,1"]
    sheet = load_workbook(BytesIO(reader.get(url + "&format=xlsx").content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)][1][1:] == [2, 1]
    assert "2 created, 1 closed" in reader.get(url).content.decode()  # the chart's title


@pytest.mark.parametrize(
    "start,end,reason",
    [
        ("2026-05-01", "2026-04-01", "before it starts"),
        ("2015-01-01", "2026-01-01", "longer than 5 years"),
        ("yesterday", "2026-01-01", "Enter a valid date"),
    ],
)
def test_a_bad_period_is_a_form_error(reader, start, end, reason):
    page = reader.get(f"/desk/reports/analysis/?start={start}&end={end}")
    assert page.status_code == 200
    assert reason in page.content.decode()
    assert "<table" not in page.content.decode()


def test_an_unknown_queue_or_report_is_refused(reader):
    page = reader.get("/desk/reports/analysis/?queue=999999")
    assert "Select a valid choice" in page.content.decode()
    assert reader.get("/desk/reports/nothing/").status_code == 404


def test_a_week_grouping_over_a_year_reads_a_bounded_number_of_queries(
    reader, queue, agent, django_assert_max_num_queries
):
    for days in (3, 40, 200):
        TicketFactory(queue=queue, by=agent, now=timezone.now() - timedelta(days=days))
    today = timezone.localdate()
    # the permission, the queues, the choices of the filters, the counts: not per row
    with django_assert_max_num_queries(15):
        page = reader.get(
            f"/desk/reports/insights/?start={today - timedelta(days=364)}&end={today}&by=week"
        )
    assert page.status_code == 200


def test_the_filters_narrow_the_counts_category_with_its_subtree(reader, queue, agent):
    from tests.factories import CategoryFactory

    hardware = CategoryFactory(name="Hardware")
    printers = CategoryFactory(name="Printers", parent=hardware)
    TicketFactory(queue=queue, by=agent, category=printers, channel="phone")
    TicketFactory(queue=queue, by=agent)
    today = timezone.localdate()
    url = f"/desk/reports/insights/?start={today}&end={today}&format=csv"
    for query, created in ((f"&category={hardware.pk}", 1), ("&channel=phone", 1), ("", 2)):
        csv = b"".join(reader.get(url + query).streaming_content).decode()
        assert csv.splitlines()[1] == f"{today},{created},0"


def test_a_long_summary_shows_its_first_rows_and_exports_them_all(
    reader, queue, agent, monkeypatch
):
    from reports import views

    monkeypatch.setattr(views, "SHOWN_ROWS", 2)
    for _ in range(3):
        TicketFactory(queue=queue, by=agent)
    today = timezone.localdate()
    url = f"/desk/reports/contacts/?start={today}&end={today}"
    page = reader.get(url).content.decode()
    assert "The first 2 rows; the CSV and XLSX have them all." in page
    assert page.count("<tr><td>") == 2
    csv = b"".join(reader.get(url + "&format=csv").streaming_content).decode()
    assert len(csv.splitlines()) == 4


@pytest.fixture
def fielded(queue, agent):
    """Requests with custom values of each kind, set as the properties form stores them."""
    fields = {
        "model": CustomFieldFactory(key="model", kind="choice", choices="X1\nT14"),
        "serial": CustomFieldFactory(key="serial-no", kind="text"),
        "seats": CustomFieldFactory(key="seats", kind="number"),
        "bought": CustomFieldFactory(key="bought", kind="date"),
    }
    values = [
        {"model": "X1", "serial-no": "AB-123", "seats": 3, "bought": "2024-03-01"},
        {"model": "X1", "serial-no": "cd-999", "seats": 2.5},
        {"model": "T14", "serial-no": "ab-777"},
        {},
    ]
    for custom in values:
        ticket = TicketFactory(queue=queue, by=agent)
        Ticket.objects.filter(pk=ticket.pk).update(custom_fields=custom)
    return fields


@pytest.mark.parametrize(
    "query,created",
    [
        ("cf_model=X1", 2),
        ("cf_model=X1&cf_serial-no=ab", 1),  # a text matches a part, in any case
        ("cf_serial-no=AB", 2),
        ("cf_seats=3", 1),
        ("cf_seats=2.5", 1),
        ("cf_bought=2024-03-01", 1),
        ("", 4),
    ],
)
def test_a_report_filters_by_custom_fields(reader, fielded, query, created):
    today = timezone.localdate()
    url = f"/desk/reports/insights/?start={today}&end={today}&{query}&format=csv"
    csv = b"".join(reader.get(url).streaming_content).decode()
    assert csv.splitlines()[1] == f"{today},{created},0"


def test_an_unknown_option_of_a_custom_field_is_a_form_error(reader, fielded):
    page = reader.get("/desk/reports/insights/?cf_model=Z9")
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert 'name="cf_model"' in page.content.decode()
