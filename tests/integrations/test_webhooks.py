"""Signed webhook deliveries against a real HTTP server on loopback: delivered, retried
by backoff, given up, refused at once, redelivered; the log and the callbacks."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import http, webhooks
from integrations.models import TrustedTarget, WebhookDelivery
from tests.factories import AdminFactory, UserFactory
from tests.integrations.test_http import serve

pytestmark = pytest.mark.django_db
State = WebhookDelivery.State


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


def queued(url, **fields):
    return webhooks.enqueue(
        url=url,
        secret=fields.pop("secret", "s3cret"),
        event="request.updated",
        payload={"number": "SUP-1", "subject": "Printer"},
        topic=fields.pop("topic", "test"),
        **fields,
    )


def test_a_delivery_is_posted_signed_and_marked_delivered(receiver):
    delivery = queued(f"{receiver.url}/in")
    attempt = webhooks.attempt_pending(delivery.pk)
    method, path, headers, body = receiver.seen[0]
    assert (method, path, json.loads(body)) == ("POST", "/in", delivery.payload)
    assert headers["X-Helpdesk-Event"] == "request.updated"
    assert headers["X-Helpdesk-Delivery"] == str(delivery.delivery_id)
    assert webhooks.verify("s3cret", headers, body)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (State.DELIVERED, 1, 200)
    assert (attempt.status, attempt.response_excerpt) == (200, "ok")


def test_the_signature_fails_with_another_secret_a_changed_body_or_an_old_time(receiver):
    webhooks.attempt_pending(queued(f"{receiver.url}/in").pk)
    _, _, headers, body = receiver.seen[0]
    assert not webhooks.verify("other", headers, body)
    assert not webhooks.verify("s3cret", headers, body.replace(b"Printer", b"Pr1nter"))
    later = timezone.now() + timedelta(minutes=10)
    assert not webhooks.verify("s3cret", headers, body, now=later)  # a replay, later
    earlier = timezone.now() - timedelta(minutes=10)
    assert not webhooks.verify("s3cret", headers, body, now=earlier)
    assert not webhooks.verify("s3cret", {**headers, "X-Helpdesk-Timestamp": "soon"}, body)


def test_a_failing_receiver_is_retried_by_backoff_then_given_up(receiver):
    receiver.plans["/down"] = (503, {}, b"maintenance")
    delivery = queued(f"{receiver.url}/down")
    start = timezone.now()
    webhooks.attempt_pending(delivery.pk, now=start)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status) == (State.PENDING, 503)
    assert delivery.next_attempt_at == start + webhooks.BACKOFF[0]
    assert delivery.attempt_log.get().response_excerpt == "maintenance"
    assert webhooks.retry_due(now=start + timedelta(seconds=30)) == 0  # not due yet
    moment = start
    for wait in webhooks.BACKOFF:
        moment += wait
        assert webhooks.retry_due(now=moment) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.FAILED, webhooks.MAX_ATTEMPTS)
    assert delivery.next_attempt_at is None
    assert webhooks.retry_due(now=moment + timedelta(days=1)) == 0


def test_the_retry_step_is_bounded(receiver):
    deliveries = [queued(f"{receiver.url}/in") for _ in range(3)]
    assert webhooks.retry_due(limit=2) == 2
    assert webhooks.retry_due(limit=2) == 1
    assert {d.state for d in WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries])} == {
        State.DELIVERED
    }


def test_a_slow_receiver_times_out_and_is_retried(receiver, settings):
    settings.OUTBOUND_HTTP_TIMEOUT = 0.5
    receiver.plans["/slow"] = "hang"
    delivery = queued(f"{receiver.url}/slow")
    attempt = webhooks.attempt_pending(delivery.pk)
    assert "Timed out after 0.5 s" in attempt.error
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING


@pytest.mark.parametrize(
    ("url", "reason"),
    [("https://10.0.0.1/in", "internal address"), ("http://hooks.example.org/in", "Plain http")],
)
def test_a_refused_url_is_given_up_at_once(url, reason, monkeypatch):
    monkeypatch.setattr(
        http, "_resolve", lambda host, port: ["10.0.0.1"] if "10." in host else ["93.184.215.14"]
    )
    delivery = queued(url)
    attempt = webhooks.attempt_pending(delivery.pk)
    assert reason in attempt.error
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (State.FAILED, 1, None)


@pytest.mark.parametrize(
    "url", ["ftp://files.example/in", "https://user:pw@hooks.example/", "nonsense"]
)
def test_a_malformed_url_is_refused_and_nothing_is_saved(url):
    with pytest.raises(http.Refused):
        queued(url)
    assert not WebhookDelivery.objects.exists()


def test_redelivering_gives_a_failed_delivery_a_new_chance(receiver):
    receiver.plans["/flaky"] = (500, {}, b"no")
    delivery = queued(f"{receiver.url}/flaky")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=State.FAILED, attempts=6)
    receiver.plans["/flaky"] = (200, {}, b"yes")
    attempt = webhooks.redeliver(delivery)
    delivery.refresh_from_db()
    assert (attempt.status, delivery.state, delivery.attempts) == (200, State.DELIVERED, 1)


def test_the_topics_callback_gets_each_attempt_and_a_raising_one_loses_nothing(receiver):
    seen = []

    def keep(delivery, attempt):
        seen.append((delivery.reference, attempt.status))

    def explode(delivery, attempt):
        raise RuntimeError("the feature's own bug")

    webhooks.on_attempt("provisioning", explode)
    webhooks.on_attempt("provisioning", keep)
    try:
        delivery = queued(f"{receiver.url}/in", topic="provisioning", reference="ticket:7")
        webhooks.attempt_pending(delivery.pk)
    finally:
        webhooks.forget("provisioning", explode)
        webhooks.forget("provisioning", keep)
    assert seen == [("ticket:7", 200)]
    assert delivery.attempt_log.count() == 1


def test_the_task_delivers_after_the_commit(receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queued(f"{receiver.url}/in")
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED


def test_the_admin_delivers_again_and_never_shows_the_secret(client, receiver):
    delivery = queued(f"{receiver.url}/in", secret="very-secret-key")
    client.force_login(AdminFactory())
    page = client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "very-secret-key" not in page.content.decode()
    answer = client.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "deliver_again", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "delivered (200)" in answer.content.decode()


def test_delivering_again_needs_the_change_permission(client, receiver):
    from django.contrib.auth.models import Permission

    delivery = queued(f"{receiver.url}/in")
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client.force_login(reader)
    answer = client.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "deliver_again", "_selected_action": [delivery.pk]},
    )
    assert answer.status_code == 200  # the list again, without the action
    assert not receiver.seen


def test_the_admin_list_has_a_constant_query_count(client, django_assert_max_num_queries):
    client.force_login(AdminFactory())

    def make(count):
        for _ in range(count):
            queued("https://hooks.example/in")

    make(2)
    with django_assert_max_num_queries(20) as few:
        client.get("/admin/integrations/webhookdelivery/")
    make(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/admin/integrations/webhookdelivery/")
    assert page.content.decode().count("https://hooks.example/in") >= 22


def test_a_staff_reader_sees_the_attempt_log(client, receiver):
    from django.contrib.auth.models import Permission

    delivery = queued(f"{receiver.url}/in")
    webhooks.attempt_pending(delivery.pk)
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client.force_login(reader)
    page = client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "Delivery attempt" in page.content.decode()
