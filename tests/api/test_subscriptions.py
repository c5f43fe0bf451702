"""Webhook subscriptions: who may subscribe, what they hear (events of requests they may
see, signed, through the delivery machinery), and a URL the outbound rules refuse."""

import json

import pytest
from django.contrib.auth.models import Permission

from api import tokens
from api.models import WebhookSubscription
from integrations import webhooks
from integrations.models import WebhookDelivery
from tests.factories import QueueFactory, TicketFactory
from tests.integrations import test_webhooks
from tickets import workflow

pytestmark = pytest.mark.django_db
receiver = test_webhooks.receiver  # the loopback HTTP server fixture


@pytest.fixture
def subscriber(agent):
    agent.user_permissions.add(Permission.objects.get(codename="add_webhooksubscription"))
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='hooks').plaintext}"}


def subscribe(client, bearer, url, names):
    data = json.dumps({"url": url, "events": names})
    return client.post("/api/v1/webhooks/", data, content_type="application/json", **bearer)


def test_an_agent_without_the_permission_cannot_subscribe(client, agent):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue(agent, name='t').plaintext}"}
    answer = subscribe(client, bearer, "https://example.test/in", ["closed"])
    assert answer.status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_a_subscriber_hears_of_the_events_named_signed(
    client,
    agent,
    queue,
    subscriber,
    receiver,
    committed,
):
    made = subscribe(client, subscriber, f"{receiver.url}/hook", ["closed"])
    assert made.status_code == 201, made.json()
    secret = made.json()["secret"]
    ticket = TicketFactory(queue=queue, by=agent)
    with committed():
        workflow.add_note(ticket, text="not subscribed to", by=agent)
        workflow.close_ticket(ticket, resolved=True, by=agent)
    [delivery] = WebhookDelivery.objects.all()
    webhooks.attempt_pending(delivery.pk)
    method, path, headers, body = receiver.seen[0]
    assert (method, path, headers["X-Helpdesk-Event"]) == ("POST", "/hook", "request.closed")
    assert webhooks.verify(secret, headers, body)
    told = json.loads(body)
    assert (told["request"]["number"], told["details"]["new"]) == (ticket.number, True)


def test_no_event_of_a_request_the_subscriber_cannot_see(
    client,
    agent,
    subscriber,
    receiver,
    committed,
):
    subscribe(client, subscriber, f"{receiver.url}/hook", ["created"])
    with committed():
        TicketFactory(queue=QueueFactory(), by=agent)
    assert not WebhookDelivery.objects.exists()


def test_a_malformed_url_or_an_unknown_event_is_refused(client, subscriber):
    # (An internal address is refused when it is called, as every outbound call is:
    # tests/integrations.)
    for url in ("ftp://example.test/", "https://user:pw@example.test/"):
        assert list(subscribe(client, subscriber, url, ["closed"]).json()["errors"]) == ["url"]
    answer = subscribe(client, subscriber, "https://example.test/in", ["exploded"])
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["events"])
    assert not WebhookSubscription.objects.exists()


def test_a_switched_off_subscription_hears_nothing(client, agent, queue, subscriber, committed):
    made = subscribe(client, subscriber, "https://example.test/in", ["created"]).json()
    client.patch(
        f"/api/v1/webhooks/{made['id']}/", json.dumps({"is_active": False}),
        content_type="application/json", **subscriber,
    )  # fmt: skip
    with committed():
        TicketFactory(queue=queue, by=agent)
    assert not WebhookDelivery.objects.exists()


def test_a_user_sees_only_their_own_subscriptions(client, subscriber):
    from tests.factories import UserFactory

    WebhookSubscription.objects.create(
        user=UserFactory(), url="https://example.test/x", events=["closed"], secret="s",
        created_at="2026-01-01T00:00Z",
    )  # fmt: skip
    assert client.get("/api/v1/webhooks/", **subscriber).json() == []
