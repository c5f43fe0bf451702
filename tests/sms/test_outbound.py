"""Sending: the outbox after the commit, the HTTP provider, retries by backoff, the
provider's status callbacks."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from sms import backends, outbox
from sms.models import OutgoingSms
from tests.factories import ContactFactory, TicketFactory
from tests.sms.conftest import MESSAGES
from tickets import workflow

pytestmark = pytest.mark.django_db
Status = OutgoingSms.Status


@pytest.fixture
def ticket(queue):
    return TicketFactory(queue=queue, contact=ContactFactory(mobile="+4915123456789"))


def text(ticket, agent, committed, body="Your engineer comes at 10."):
    with committed():
        return workflow.send_sms(ticket, by=agent, body=body)


def test_an_sms_goes_out_after_the_commit_and_is_marked_sent(ticket, agent, committed):
    message = text(ticket, agent, committed)
    [sent] = backends.sent
    assert (sent.to, sent.body) == ("+4915123456789", "Your engineer comes at 10.")
    sms = OutgoingSms.objects.get(message=message)
    assert (sms.status, sms.attempts, sms.provider_id) == (Status.SENT, 1, sent.id)
    message.refresh_from_db()
    assert message.sent_at == sms.sent_at


def test_nothing_goes_before_the_commit_and_the_same_message_is_one_sms(
    ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        message = workflow.send_sms(ticket, by=agent, body="Soon.")
    assert backends.sent == [] and not OutgoingSms.objects.exists()
    assert outbox.enqueue(message) == outbox.enqueue(message)
    assert OutgoingSms.objects.count() == 1


def test_an_sms_another_worker_holds_is_not_sent_twice(ticket, agent, committed):
    with committed():
        message = workflow.send_sms(ticket, by=agent, body="Soon.")
    sms = OutgoingSms.objects.get(message=message)
    assert not outbox.deliver(sms.pk)  # it went already
    OutgoingSms.objects.filter(pk=sms.pk).update(
        status=Status.QUEUED, claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert not outbox.deliver(sms.pk)  # claimed by another worker
    assert len(backends.sent) == 1


def test_the_http_backend_posts_the_form_with_basic_auth_and_reads_the_sid(provider, settings):
    settings.SMS_STATUS_CALLBACK_URL = "https://helpdesk.example/sms/status/"
    sid = backends.HttpBackend().send("+4915123456789", "Hi", sender="+49305550100", reference="")
    method, path, headers, body = provider.seen[0]
    assert (sid, method, path) == ("SM1", "POST", MESSAGES)
    assert headers["Authorization"] == "Basic QUMxOnQwa2Vu"  # AC1:t0ken
    assert parse_qs(body.decode()) == {
        "To": ["+4915123456789"],
        "From": ["+49305550100"],
        "Body": ["Hi"],
        "StatusCallback": ["https://helpdesk.example/sms/status/"],
    }


def test_the_http_backend_says_what_the_provider_answered_to_a_failure(provider):
    provider.plans[MESSAGES] = (500, {}, b'{"code": 20500, "message": "Internal error"}')
    with pytest.raises(backends.SmsNotSent, match="HTTP 500 Internal Server Error: Internal error"):
        backends.HttpBackend().send("+4915123456789", "Hi", sender="", reference="")
    provider.plans[MESSAGES] = (201, {}, b'{"status": "queued"}')
    with pytest.raises(backends.SmsNotSent, match="no message id"):
        backends.HttpBackend().send("+4915123456789", "Hi", sender="", reference="")


def test_the_http_backend_refuses_an_untrusted_internal_address(provider, settings):
    settings.SMS_HTTP_URL = "http://10.0.0.1/Messages.json"
    with pytest.raises(backends.SmsNotSent, match="plain http"):
        backends.HttpBackend().send("+4915123456789", "Hi", sender="", reference="")


def test_a_provider_failure_is_retried_by_backoff_then_delivered(
    provider, ticket, agent, committed
):
    provider.plans[MESSAGES] = (503, {}, b'{"message": "Try later"}')
    message = text(ticket, agent, committed)
    sms = OutgoingSms.objects.get(message=message)
    first_due = sms.next_attempt_at
    assert (sms.status, sms.attempts, sms.last_error) == (
        Status.QUEUED, 1, "HTTP 503 Service Unavailable: Try later",
    )  # fmt: skip
    assert outbox.deliver_due(now=first_due - timedelta(seconds=1)) == 0  # not due yet
    assert outbox.deliver_due(now=first_due) == 0  # due, and fails again
    sms.refresh_from_db()
    assert sms.next_attempt_at == first_due + outbox.BACKOFF[1]
    provider.plans[MESSAGES] = (201, {}, b'{"sid": "SM42"}')
    assert outbox.deliver_due(now=sms.next_attempt_at) == 1
    sms.refresh_from_db()
    message.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_id, sms.last_error) == (
        Status.SENT, 3, "SM42", "",
    )  # fmt: skip
    assert message.sent_at is not None and message.send_error == ""
    assert len(provider.seen) == 3


def test_a_provider_that_keeps_failing_is_given_up_after_the_last_attempt(
    provider, ticket, agent, committed
):
    provider.plans[MESSAGES] = (500, {}, b"")
    message = text(ticket, agent, committed)
    sms = OutgoingSms.objects.get(message=message)
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        outbox.deliver(sms.pk, now=sms.next_attempt_at)
        sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.next_attempt_at) == (
        Status.FAILED, outbox.MAX_ATTEMPTS, None,
    )  # fmt: skip
    message.refresh_from_db()
    assert message.send_error == "HTTP 500 Internal Server Error"
    assert outbox.deliver_due(now=timezone.now() + timedelta(days=30)) == 0


def test_a_failed_sms_is_sent_again_by_the_admin_and_a_sent_one_is_not(
    provider, ticket, agent, committed
):
    provider.plans[MESSAGES] = (500, {}, b"")
    sms = OutgoingSms.objects.get(message=text(ticket, agent, committed))
    OutgoingSms.objects.filter(pk=sms.pk).update(status=Status.FAILED, next_attempt_at=None)
    provider.plans[MESSAGES] = (201, {}, b'{"sid": "SM7"}')
    with committed():
        assert outbox.resend(sms)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_id) == (Status.SENT, 1, "SM7")
    assert not outbox.resend(sms)


def test_status_callbacks_say_whether_it_reached_the_phone(ticket, agent, committed, webhook):
    message = text(ticket, agent, committed)
    sms = OutgoingSms.objects.get(message=message)
    answer = webhook("status", {"MessageSid": sms.provider_id, "MessageStatus": "sending"})
    assert answer.status_code == 200 and answer.json()["status"] == "sent"  # news, no change
    answer = webhook(
        "status",
        {"MessageSid": sms.provider_id, "MessageStatus": "undelivered", "ErrorMessage": "Off"},
    )
    assert answer.json() == {"id": sms.pk, "status": "undelivered"}
    message.refresh_from_db()
    assert message.send_error == "Off"
    webhook("status", {"MessageSid": sms.provider_id, "MessageStatus": "delivered"}, as_json=True)
    sms.refresh_from_db()
    message.refresh_from_db()
    assert (sms.status, sms.last_error, message.send_error) == (Status.DELIVERED, "", "")
    assert sms.status_at is not None


def test_a_status_callback_for_an_unknown_sms_or_status_is_refused(
    ticket, agent, committed, webhook
):
    sms = OutgoingSms.objects.get(message=text(ticket, agent, committed))
    answer = webhook("status", {"MessageSid": "SMnone", "MessageStatus": "delivered"})
    assert answer.status_code == 404 and "SMnone" in answer.content.decode()
    answer = webhook("status", {"MessageSid": sms.provider_id, "MessageStatus": "lost"})
    assert answer.status_code == 400 and "not a status" in answer.content.decode()
    assert webhook("status", {"MessageSid": sms.provider_id}).status_code == 400


def test_the_file_backend_writes_one_json_file_per_sms(settings, tmp_path):
    settings.SMS_FILE_PATH = tmp_path / "sms"
    sid = backends.FileBackend().send("+4915123456789", "Hi", sender="", reference="sms:1")
    [written] = (tmp_path / "sms").iterdir()
    assert sid in written.name
    assert '"reference": "sms:1"' in written.read_text()
