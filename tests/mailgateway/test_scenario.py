"""Scenario 1 of SPEC.md end to end: Dovecot in, SMTP out, and a real Celery worker."""

import time

import pytest
from django.conf import settings

from mailgateway import fetch
from tests.conftest import needs
from tests.factories import UserFactory
from tests.mailgateway.conftest import make_mail
from tickets import workflow
from tickets.models import Message, Ticket


def test_customer_mail_acknowledgement_reply_and_answer_thread_into_one_request(
    dovecot, imap_mailbox, smtp_sink, django_capture_on_commit_callbacks
):
    customer = imap_mailbox.username
    dovecot.append(customer, make_mail(subject="Printer on fire", message_id="<q@example.test>"))
    with django_capture_on_commit_callbacks(execute=True):
        assert fetch.poll_mailbox(imap_mailbox.pk) == {"new": 1}
    ticket = Ticket.objects.get()
    (ack,) = smtp_sink.wait_for(1)
    assert ack["Auto-Submitted"] == "auto-replied" and ticket.number in ack["Subject"]

    with django_capture_on_commit_callbacks(execute=True):
        workflow.reply_to_customer(ticket, by=UserFactory(), body="We sent a technician.")
    reply = smtp_sink.wait_for(2)[1]
    assert reply["To"] == "dana@example.test" and reply["Subject"].startswith(f"[{ticket.number}]")
    assert reply["In-Reply-To"] == "<q@example.test>"
    assert reply["References"] == "<q@example.test>"
    assert "Auto-Submitted" not in reply

    answer = make_mail(
        subject=f"Re: {reply['Subject']}",
        body="Thanks, it is out.",
        in_reply_to=reply["Message-ID"],
    )
    dovecot.append(customer, answer)
    with django_capture_on_commit_callbacks(execute=True):
        assert fetch.poll_mailbox(imap_mailbox.pk) == {"appended": 1}
    texts = list(ticket.messages.filter(direction="in").values_list("body_text", flat=True))
    assert texts == ["Please help, the printer smokes.", "Thanks, it is out."]
    assert ticket.messages.get(body_text="Thanks, it is out.").in_reply_to == reply["Message-ID"]
    assert len(smtp_sink.envelopes) == 2  # no acknowledgement for an answer


@pytest.fixture
def celery_app_on_redis():
    """The project's Celery app, sending tasks to Redis instead of running them inline."""
    needs("Redis (REDIS_URL=redis://...)", bool(settings.REDIS_URL))
    from helpdesk.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        yield app
    finally:
        app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_on_redis_polls_due_mailboxes_and_sends_the_acknowledgement(
    dovecot, imap_mailbox, smtp_sink, celery_app_on_redis
):
    from celery.contrib.testing.worker import start_worker

    from mailgateway.tasks import poll_mailboxes

    dovecot.append(imap_mailbox.username, make_mail(subject="Via the worker"))
    # The test only watches the SMTP sink while the worker runs: SQLite's shared in-memory
    # test database does not take a second thread's reads during the worker's writes.
    with start_worker(celery_app_on_redis, pool="solo", perform_ping_check=False):
        poll_mailboxes.delay()  # beat's tick → poll_mailbox → ingest → send_message
        (ack,) = smtp_sink.wait_for(1, timeout=30)
        time.sleep(0.5)  # send_message records sent_at after the server took the mail
    assert ack["Auto-Submitted"] == "auto-replied" and ack["Subject"].endswith("Via the worker")
    assert Ticket.objects.get().subject == "Via the worker"
    assert Message.objects.get(kind=Message.Kind.SYSTEM).sent_at is not None
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.next_poll_at is not None and imap_mailbox.locked_until is None
    assert imap_mailbox.last_error == ""
    assert b"\\Seen" in dovecot.flags(imap_mailbox.username)[0]
