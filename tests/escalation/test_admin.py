"""The escalation chain under the priority, calendars, deliveries: in the admin."""

import pytest
from django.urls import reverse

from escalation.models import HookDelivery
from tests.escalation.conftest import T0, EscalationLevelFactory
from tests.factories import AdminFactory, PriorityFactory, QueueFactory, TicketFactory
from tickets.models import BusinessCalendar, EscalationLevel


@pytest.fixture
def staff_client(client, db):
    client.force_login(AdminFactory())
    return client


def priority_form(priority, levels, *, existing=0):
    data = {
        "name": priority.name,
        "rank": priority.rank,
        "color": priority.color,
        "rules-TOTAL_FORMS": 0,
        "rules-INITIAL_FORMS": 0,
        "escalation_levels-TOTAL_FORMS": len(levels),
        "escalation_levels-INITIAL_FORMS": existing,
    }
    for index, level in enumerate(levels):
        for field, value in level.items():
            data[f"escalation_levels-{index}-{field}"] = value
    return data


def change_priority(staff_client, priority, levels, **kwargs):
    url = reverse("admin:tickets_priority_change", args=[priority.pk])
    return staff_client.post(url, priority_form(priority, levels, **kwargs))


def test_the_priority_page_shows_its_chain_and_the_registered_hooks(staff_client):
    priority = PriorityFactory(name="High", rank=3)
    EscalationLevelFactory(priority=priority, alert_level=1)
    response = staff_client.get(reverse("admin:tickets_priority_change", args=[priority.pk]))
    assert response.status_code == 200
    assert "Escalation chain" in response.text
    assert '<option value="add_internal_note">' in response.text


def test_a_chain_is_added_under_its_priority(staff_client):
    priority = PriorityFactory(name="High", rank=3)
    response = change_priority(
        staff_client,
        priority,
        [
            {"alert_level": 1, "minutes": 30, "action": "notify_owner"},
            {"alert_level": 2, "minutes": 60, "action": "mark_unread", "hook_name": ""},
        ],
    )
    assert response.status_code == 302
    assert list(priority.escalation_levels.values_list("alert_level", "minutes")) == [
        (1, 30),
        (2, 60),
    ]


def test_an_alert_level_used_twice_is_refused_with_a_clear_message(staff_client):
    priority = PriorityFactory(name="High", rank=3)
    response = change_priority(
        staff_client,
        priority,
        [
            {"alert_level": 2, "minutes": 30, "action": "notify_owner"},
            {"alert_level": 2, "minutes": 60, "action": "mark_unread"},
        ],
    )
    assert response.status_code == 200
    assert "Alert level 2 is used twice" in response.text
    assert not EscalationLevel.objects.exists()


def test_the_database_refuses_a_duplicate_alert_level_too(db):
    from django.db import IntegrityError

    level = EscalationLevelFactory(alert_level=1)
    with pytest.raises(IntegrityError):
        EscalationLevelFactory(priority=level.priority, alert_level=1)


def test_raising_to_a_lower_priority_or_to_nothing_is_refused(staff_client):
    low = PriorityFactory(name="Low", rank=1)
    priority = PriorityFactory(name="High", rank=3)
    levels = [
        {"alert_level": 1, "minutes": 30, "action": "raise_priority", "raise_to": low.pk},
        {"alert_level": 2, "minutes": 30, "action": "raise_priority"},
        {"alert_level": 3, "minutes": 30, "action": "notify_address"},
    ]
    response = change_priority(staff_client, priority, levels)
    assert "“Low” does not rank above “High”." in response.text
    assert "Say which priority to raise to." in response.text
    assert "Say which address to notify." in response.text
    assert not EscalationLevel.objects.exists()


def test_a_calendar_with_hours_is_given_to_queues(staff_client):
    support, billing = QueueFactory(), QueueFactory()
    data = {
        "name": "Office hours",
        "time_zone": "Europe/Oslo",
        "queues": [support.pk, billing.pk],
        "opening_hours-TOTAL_FORMS": 1,
        "opening_hours-INITIAL_FORMS": 0,
        "opening_hours-0-weekday": 0,
        "opening_hours-0-opens": "09:00",
        "opening_hours-0-closes": "17:00",
        "holidays-TOTAL_FORMS": 1,
        "holidays-INITIAL_FORMS": 0,
        "holidays-0-date": "2026-12-25",
        "holidays-0-every_year": "on",
    }
    response = staff_client.post(reverse("admin:tickets_businesscalendar_add"), data)
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert set(calendar.queues.all()) == {support, billing}
    assert calendar.as_calendar().yearly_holidays == {(12, 25)}


def test_a_calendar_without_hours_or_with_a_bad_time_zone_is_refused(staff_client):
    data = {
        "name": "Never",
        "time_zone": "Mars/Olympus",
        "opening_hours-TOTAL_FORMS": 0,
        "opening_hours-INITIAL_FORMS": 0,
        "holidays-TOTAL_FORMS": 0,
        "holidays-INITIAL_FORMS": 0,
    }
    response = staff_client.post(reverse("admin:tickets_businesscalendar_add"), data)
    assert "is not a time zone name" in response.text
    assert "Please submit at least 1 form." in response.text
    assert not BusinessCalendar.objects.exists()


def test_deliveries_are_listed_and_can_be_sent_again(staff_client, queue, monkeypatch):
    ticket = TicketFactory(queue=queue, now=T0)
    failed = HookDelivery.objects.create(
        ticket=ticket,
        kind="webhook",
        target="http://127.0.0.1:9/",
        payload={},
        created_at=T0,
        state="failed",
        error="HTTP 500 Internal Server Error",
    )
    sent = []
    monkeypatch.setattr("escalation.admin.deliver_hook.delay", sent.append)
    url = reverse("admin:escalation_hookdelivery_changelist")
    assert ticket.number in staff_client.get(url).text
    staff_client.post(url, {"action": "deliver_again", "_selected_action": [failed.pk]})
    assert sent == [failed.pk]
