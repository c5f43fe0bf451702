"""Hooks and webhooks: recorded deliveries, retried by a Celery task, never in the
sweep's way. The webhook receiver is a tiny HTTP server on loopback."""

import hashlib
import hmac
import json

import pytest

from escalation import engine, hooks
from escalation.admin import EscalationLevelForm
from escalation.models import HookDelivery
from escalation.tasks import deliver_hook
from integrations.models import TrustedTarget
from tests.escalation.conftest import T0, EscalationLevelFactory, at
from tests.factories import TicketFactory
from tickets import events
from tickets.models import DomainEvent, EscalationLevel, Message

calls = []


@hooks.hook("test_records_the_request")
def records_the_request(ticket, level):
    calls.append((ticket.number, level.alert_level))


@hooks.hook("test_always_fails")
def always_fails(ticket, level):
    raise RuntimeError("the CRM is down")


@pytest.fixture(autouse=True)
def _secret_and_short_timeout(settings):
    settings.ESCALATION_WEBHOOK_SECRET = "s3cret"
    settings.ESCALATION_WEBHOOK_TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def _loopback_is_trusted(db):
    """The receiver is on loopback over plain http, which the helpdesk calls only when an
    admin trusts it; test_http.py shows the refusals."""
    TrustedTarget.objects.create(
        host="127.0.0.1", allow_plain_http=True, allow_internal_address=True
    )


@pytest.fixture
def retries_run_inline():
    """Eager tasks that retry, retried in place: Celery re-raises a retry instead when
    eager exceptions propagate, as the rest of the suite wants."""
    from helpdesk.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def level(medium):
    return EscalationLevelFactory(priority=medium, alert_level=1, action="")


@pytest.fixture
def ticket(queue, level):
    return TicketFactory(queue=queue, now=T0)


def escalate(django_capture_on_commit_callbacks, minutes=30):
    with django_capture_on_commit_callbacks(execute=True):
        return engine.sweep(now=at(minutes))


def test_a_webhook_gets_a_signed_json_post_of_the_request(
    receiver, level, ticket, django_capture_on_commit_callbacks
):
    level.webhook_url = receiver.url
    level.save()
    escalate(django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.received
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Helpdesk-Signature"] == f"sha256={expected}"
    assert json.loads(body)["request"]["number"] == ticket.number
    delivery = HookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert headers["X-Helpdesk-Delivery"] == str(delivery.pk)


def test_a_failing_webhook_is_recorded_and_does_not_stop_the_sweep(
    receiver, queue, level, ticket, django_capture_on_commit_callbacks
):
    other = TicketFactory(queue=queue, now=T0)
    receiver.answer = 500
    level.webhook_url = receiver.url
    level.save()
    assert escalate(django_capture_on_commit_callbacks).escalated == 2
    for delivery in HookDelivery.objects.filter(ticket__in=[ticket, other]):
        assert (delivery.state, delivery.response_status) == ("failed", 500)
        assert delivery.error == "HTTP 500 Internal Server Error"


def test_the_task_retries_a_failing_webhook_with_backoff_and_records_each_attempt(
    receiver, ticket, level, retries_run_inline
):
    receiver.answer = 500
    delivery = webhook_delivery(ticket, level, receiver.url)
    result = deliver_hook.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    attempts = deliver_hook.max_retries + 1
    assert (result.state, delivery.state, delivery.attempts) == ("FAILURE", "failed", attempts)
    assert len(receiver.received) == attempts
    assert deliver_hook.retry_backoff and deliver_hook.autoretry_for == (hooks.DeliveryFailed,)


def test_a_retry_that_succeeds_delivers_it(receiver, ticket, level):
    receiver.answer = 500
    delivery = webhook_delivery(ticket, level, receiver.url)
    with pytest.raises(hooks.DeliveryFailed):
        hooks.deliver(delivery.pk)
    receiver.answer = 200
    assert deliver_hook.apply(args=[delivery.pk]).get() is True
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.error) == ("delivered", 2, "")


def webhook_delivery(ticket, level, url):
    return HookDelivery.objects.create(
        ticket=ticket, level=level, kind="webhook", target=url, payload={"a": 1}, created_at=T0
    )


def test_a_webhook_that_does_not_answer_times_out_and_is_recorded(receiver, ticket, level):
    receiver.answer = "hang"
    delivery = webhook_delivery(ticket, level, receiver.url)
    with pytest.raises(hooks.DeliveryFailed):
        hooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert delivery.error == "Timed out after 0.3 s."


def test_an_unreachable_webhook_is_recorded(ticket, level):
    delivery = webhook_delivery(ticket, level, "http://127.0.0.1:9/")
    with pytest.raises(hooks.DeliveryFailed):
        hooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.error.startswith("Cannot connect to 127.0.0.1")


def test_a_registered_hook_runs_once_with_the_request_and_level(
    level, ticket, django_capture_on_commit_callbacks
):
    calls.clear()
    level.hook_name = "test_records_the_request"
    level.save()
    escalate(django_capture_on_commit_callbacks)
    escalate(django_capture_on_commit_callbacks)
    assert calls == [(ticket.number, 1)]
    delivery = HookDelivery.objects.get()
    assert hooks.deliver(delivery.pk) is False  # delivered already: nothing to do


def test_the_hook_is_recorded_after_the_sweep_commits_and_sees_its_delegation(
    level, ticket, agent, django_capture_on_commit_callbacks
):
    level.hook_name = "test_records_the_request"
    level.delegate_to_user = agent
    level.save()
    with django_capture_on_commit_callbacks() as after_commit:
        engine.sweep(now=at(30))
    assert not HookDelivery.objects.exists()  # not in the sweep's transaction
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()
    delivery = HookDelivery.objects.get()
    assert delivery.payload["request"]["owner"] == agent.get_username()
    assert delivery.payload["level"] == 1


def test_a_sweep_reaching_levels_without_hooks_stores_no_event(
    level, ticket, django_capture_on_commit_callbacks
):
    escalate(django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert not DomainEvent.objects.filter(name=events.ESCALATED).exists()


def test_a_failing_hook_is_recorded_and_does_not_stop_the_sweep(
    queue, level, ticket, django_capture_on_commit_callbacks, retries_run_inline
):
    other = TicketFactory(queue=queue, now=T0)
    level.hook_name = "test_always_fails"
    level.save()
    assert escalate(django_capture_on_commit_callbacks).escalated == 2
    deliveries = HookDelivery.objects.filter(ticket__in=[ticket, other])
    assert [(d.state, d.attempts) for d in deliveries] == [("failed", 7), ("failed", 7)]
    assert deliveries[0].error == "RuntimeError: the CRM is down"
    assert deliver_hook.max_retries + 1 == 7


def test_a_delivery_another_worker_holds_is_skipped(ticket, level):
    delivery = HookDelivery.objects.create(
        ticket=ticket,
        level=level,
        kind="callable",
        target="test_records_the_request",
        payload={},
        created_at=T0,
        state=HookDelivery.State.SENDING,
        claimed_until=at(5),
    )
    assert hooks.deliver(delivery.pk, now=at(1)) is False
    assert hooks.deliver(delivery.pk, now=at(6)) is True  # the claim ran out


def test_the_built_in_hook_writes_the_escalation_into_the_timeline(
    level, ticket, django_capture_on_commit_callbacks
):
    level.hook_name = "add_internal_note"
    level.save()
    escalate(django_capture_on_commit_callbacks)
    note = ticket.messages.get(kind=Message.Kind.NOTE)
    assert note.body_text == "Escalated: Level 1: run its hook."


def test_an_unknown_hook_name_is_refused(level):
    form = EscalationLevelForm(
        {"alert_level": 2, "minutes": 10, "hook_name": "no_such_hook"}, instance=level
    )
    assert not form.is_valid()
    assert "no_such_hook is not one of the available choices" in str(form.errors["hook_name"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://files.example.com/hook", "Only http and https URLs are called"),
        ("https://user:secret@crm.example.com/hook", "Put credentials in a header"),
    ],
)
def test_a_webhook_url_the_helpdesk_would_not_call_is_refused_in_the_form(level, url, reason):
    form = EscalationLevelForm(
        {"alert_level": 2, "minutes": 10, "webhook_url": url}, instance=level
    )
    assert not form.is_valid()
    assert reason in str(form.errors["webhook_url"])


def test_a_webhook_to_an_internal_address_is_refused_and_recorded(ticket, level):
    delivery = webhook_delivery(ticket, level, "https://169.254.169.254/latest/meta-data/")
    with pytest.raises(hooks.DeliveryFailed):
        hooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.response_status is None
    assert delivery.error.startswith("169.254.169.254 is an internal address")


def test_the_admin_offers_the_registered_hooks():
    names = [name for name, _ in hooks.choices()]
    assert {"add_internal_note", "test_always_fails"} <= set(names)
    assert names[0] == ""


def test_every_level_field_combination_describes_itself(medium):
    level = EscalationLevel(
        priority=medium, alert_level=4, action="notify_address", notify_address="a@b.test"
    )
    assert level.describe() == "Level 4: Notify a@b.test"
