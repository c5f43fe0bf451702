"""A request list's rows are read as plain values, not through RequestSerializer (it cost
most of a page): they must say exactly what the serializer says of the same requests.
And the per-token rate limit, counted in a fixed window."""

import math
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request

from api import throttling, tokens
from api.serializers import RequestSerializer, request_answers, request_rows
from tests.factories import ContactFactory, TicketFactory
from tickets import workflow
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(agent):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='tests').plaintext}"}


@pytest.fixture
def assorted(queue, agent):
    """Requests with and without what a row reads of other tables."""
    tagged = TicketFactory(queue=queue, by=agent, tags=["vpn", "access", "urgent"])
    # what the serializer reads, set directly: the workflow's rules are not under test here
    Ticket.objects.filter(pk=tagged.pk).update(custom_fields={"asset": "LT-12"}, owner=agent)
    TicketFactory(queue=queue, by=agent, contact=None, channel="internal")
    kept = TicketFactory(queue=queue, by=agent, contact=ContactFactory())
    merged = TicketFactory(queue=queue, by=agent, contact=kept.contact)
    workflow.merge_ticket(merged, into=kept, by=agent)
    workflow.postpone_ticket(kept, until=timezone.now() + timedelta(days=2), by=agent)
    return Ticket.objects.filter(queue=queue).order_by("pk")


def serialized(requests) -> list[dict]:
    request = Request(RequestFactory().get("/api/v1/requests/"))
    found = requests.prefetch_related("tags", "merged_into").select_related("contact")
    return [dict(r) for r in RequestSerializer(found, many=True, context={"request": request}).data]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Athens", "America/St_Johns"])
def test_rows_say_what_the_serializer_says(assorted, zone):
    with timezone.override(zone):
        rows = request_answers(
            request_rows(assorted), RequestSerializer.Meta.fields, timezone.get_current_timezone()
        )
        assert rows == serialized(assorted)
    assert {tuple(r["tags"]) for r in rows} >= {("access", "urgent", "vpn"), ()}
    assert any(r["merged_into"] for r in rows) and any(r["contact_email"] is None for r in rows)


def test_the_list_answers_rows_with_only_the_fields_asked(client, assorted, bearer):
    answer = client.get("/api/v1/requests/?fields=number,tags,created_at", **bearer).json()
    assert {tuple(sorted(r)) for r in answer["results"]} == {("created_at", "number", "tags")}
    every = client.get("/api/v1/requests/", **bearer).json()["results"]
    shown = serialized(assorted.exclude(base_status__in=["merged", "deleted"]))
    assert sorted(every, key=lambda r: r["number"]) == sorted(shown, key=lambda r: r["number"])


def test_the_change_feed_gives_rows_too(client, assorted, bearer):
    Ticket.objects.filter(pk__in=assorted).update(updated_at=timezone.now() - timedelta(minutes=1))
    page = client.get("/api/v1/requests/changes/", **bearer).json()
    assert sorted(page["results"], key=lambda r: r["number"]) == sorted(
        serialized(assorted), key=lambda r: r["number"]
    )


@pytest.mark.parametrize("rate", ["2/second", "2/minute", "2/hour", "2/day"])
def test_the_third_call_in_a_window_of_two_is_refused_until_the_next(
    client, bearer, settings, rate, monkeypatch
):
    settings.API_RATE_LIMIT = rate
    start = 86_400.0 * 20_000  # a midnight (UTC): the beginning of a window of each length
    monkeypatch.setattr(throttling.time, "time", lambda: start + 0.25)
    assert [client.get("/api/v1/requests/", **bearer).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    _, seconds = throttling.allowance(rate)
    refused = client.get("/api/v1/requests/", **bearer)
    assert int(refused["Retry-After"]) == math.ceil(seconds - 0.25)
    monkeypatch.setattr(throttling.time, "time", lambda: start + seconds)
    assert client.get("/api/v1/requests/", **bearer).status_code == 200


def test_the_count_is_kept_in_memory_without_redis(settings):
    settings.REDIS_URL = ""
    assert [throttling.count("api-rate:test:1", 60) for _ in range(3)] == [1, 2, 3]


def test_the_owners_are_read_only_when_one_is_chosen(client, assorted, agent, bearer):
    client.get("/api/v1/requests/", **bearer)  # the token's first use is written down
    with CaptureQueriesContext(connection) as without_owner:
        assert client.get("/api/v1/requests/?open=1", **bearer).status_code == 200
    with CaptureQueriesContext(connection) as with_owner:
        answer = client.get(f"/api/v1/requests/?open=1&owner={agent.pk}", **bearer)
    assert {r["owner"] for r in answer.json()["results"]} == {agent.pk}
    assert len(with_owner) == len(without_owner) + 1


@pytest.mark.parametrize("rate", ["600", "600/fortnight", "many/minute", ""])
def test_a_rate_limit_that_is_not_calls_per_period_says_how_to_write_it(rate):
    with pytest.raises(ImproperlyConfigured, match="600/minute"):
        throttling.allowance(rate)
