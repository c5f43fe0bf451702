"""Webhooks and provisioning from rules: signed deliveries to a real HTTP server on
loopback, a failing receiver retried, a provisioning endpoint's answer kept on the
request; and activities scheduled by a rule."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from automations.models import Action, RuleRun, Trigger
from integrations import webhooks
from integrations.models import TrustedTarget, WebhookDelivery
from tests.factories import ActionFactory, RuleFactory, TeamFactory, TicketFactory
from tests.integrations.test_http import serve

pytestmark = pytest.mark.django_db
K = Action.Kind


@pytest.fixture
def receiver():
    server, thread = serve()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    TrustedTarget.objects.create(
        host="127.0.0.1", allow_plain_http=True, allow_internal_address=True
    )
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def webhook_rule(kind, url, trigger=Trigger.CREATED):
    rule = RuleFactory(trigger=trigger, name=f"Tell {url}")
    ActionFactory(rule=rule, kind=kind, url=url, secret="s3cret")
    return rule


def test_a_webhook_posts_the_request_signed(queue, agent, committed, receiver):
    webhook_rule(K.WEBHOOK, f"{receiver.url}/hook")
    with committed():
        ticket = TicketFactory(queue=queue, by=agent, subject="Printer jams")
    method, path, headers, body = receiver.seen[0]
    assert (method, path) == ("POST", "/hook")
    payload = json.loads(body)
    assert payload["trigger"] == "created"
    assert payload["request"]["number"] == ticket.number
    assert payload["request"]["subject"] == "Printer jams"
    assert webhooks.verify("s3cret", headers, body, now=timezone.now())
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert headers["X-Helpdesk-Delivery"] == str(delivery.delivery_id)
    assert RuleRun.objects.get().changes == [f"call a webhook {delivery.delivery_id}"]


def test_a_failing_receiver_is_retried_later_and_the_request_is_untouched(
    queue, agent, committed, receiver
):
    receiver.plans["/down"] = (503, {}, b"maintenance")
    webhook_rule(K.WEBHOOK, f"{receiver.url}/down")
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.last_status == 503
    assert delivery.next_attempt_at > timezone.now()
    assert RuleRun.objects.get().outcome == RuleRun.Outcome.DONE  # queued is done
    receiver.plans["/down"] = (200, {}, b"ok")
    webhooks.retry_due(now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert ticket.events.filter(action="automation_ran").count() == 1


def test_provisioning_records_the_answer_on_the_request(queue, agent, committed, receiver):
    receiver.plans["/provision"] = (201, {}, b'{"account": "ann-42"}')
    rule = webhook_rule(K.PROVISION, f"{receiver.url}/provision")
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    note = ticket.messages.get(kind="note")
    assert "answered HTTP 201" in note.body_text
    assert '"account": "ann-42"' in note.body_text
    assert note.author is None
    assert ticket.events.filter(via=rule.label, action="message_added").exists()


def test_a_provisioning_failure_is_on_the_request_too(queue, agent, committed, receiver):
    receiver.plans["/provision"] = (500, {}, b"database down")
    webhook_rule(K.PROVISION, f"{receiver.url}/provision")
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    assert "answered HTTP 500" in ticket.messages.get(kind="note").body_text


def test_a_rule_schedules_an_activity_due_in_business_hours(queue, agent, committed):
    team = TeamFactory(name="Field service")
    rule = RuleFactory(trigger=Trigger.CREATED)
    ActionFactory(
        rule=rule, kind=K.SCHEDULE_ACTIVITY, value="Call the customer", team=team, hours=8
    )
    with committed():
        ticket = TicketFactory(queue=queue, by=agent)
    activity = ticket.activities.get()
    assert (activity.title, activity.team, activity.via) == ("Call the customer", team, rule.label)
    # no calendar on the queue: wall-clock hours from when the rule ran
    assert activity.due_at - RuleRun.objects.get().at == timedelta(hours=8)
