"""Automatic acknowledgements, sent over real SMTP, never to machines, capped per sender."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from mailgateway import ingest
from mailgateway.models import Mailbox, ReceivedMail
from tests.factories import ContactFactory, ReplyTemplateFactory
from tests.mailgateway.conftest import fixture_mail, make_mail
from tickets import acknowledgement, events, workflow
from tickets.models import Message, ReplyTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(support_queue, django_capture_on_commit_callbacks):
    def take(raw, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest.ingest(raw, queue=support_queue, **kwargs)

    return take


def test_a_new_request_is_acknowledged_over_smtp_as_an_auto_reply(take, smtp_sink):
    result = take(make_mail(subject="Printer", message_id="<q1@example.test>"))
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "dana@example.test" and mail["From"] == "support@helpdesk.test"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Subject"] == f"[{result.ticket.number}] Printer"
    assert mail["In-Reply-To"] == "<q1@example.test>"
    assert result.ticket.number in mail.get_content()
    ack = result.ticket.messages.get(kind=Message.Kind.SYSTEM)
    assert mail["Message-ID"] == ack.message_id and ack.sent_at is not None


def test_the_acknowledgement_uses_the_queues_own_template(take, smtp_sink, support_queue):
    purpose = ReplyTemplate.Purpose.ACKNOWLEDGEMENT
    ReplyTemplateFactory(purpose=purpose, name="Global", subject="Global", body="global")
    ReplyTemplateFactory(
        purpose=purpose,
        queue=support_queue,
        name="Ours",
        subject="We got {number}",
        body="Dear {contact_name}, {number} is registered.",
    )
    number = take(make_mail(sender="Dana <dana@example.test>")).ticket.number
    (mail,) = smtp_sink.wait_for(1)
    assert mail["Subject"] == f"We got {number}"
    assert mail.get_content().strip() == f"Dear Dana, {number} is registered."


@pytest.mark.parametrize(
    "headers, sender",
    [
        ({"Auto-Submitted": "auto-replied"}, "dana@example.test"),
        ({"Auto-Submitted": "auto-generated"}, "dana@example.test"),
        ({"Precedence": "bulk"}, "dana@example.test"),
        ({"Precedence": "junk"}, "dana@example.test"),
        ({"Precedence": "list"}, "dana@example.test"),
        ({"List-Id": "<users.lists.example.test>"}, "dana@example.test"),
        ({"X-Auto-Response-Suppress": "All"}, "dana@example.test"),
        ({"Return-Path": "<>"}, "dana@example.test"),
        ({}, "MAILER-DAEMON@mx.example.test"),
        ({}, "postmaster@example.test"),
        ({}, "no-reply@shop.example.test"),
        ({}, "noreply@shop.example.test"),
        ({}, "support@helpdesk.test"),
    ],
)
def test_machine_mail_is_never_acknowledged(take, smtp_sink, headers, sender):
    result = take(make_mail(sender=sender, headers=headers))
    assert result.outcome == "new"
    assert not result.ticket.messages.filter(kind=Message.Kind.SYSTEM).exists()
    assert smtp_sink.envelopes == []


def test_a_delivery_report_is_never_acknowledged(take, smtp_sink):
    assert take(fixture_mail("bounce.eml")).outcome == "new"  # nothing of ours bounced
    assert smtp_sink.envelopes == []


def test_auto_submitted_no_is_a_person_writing(take, smtp_sink):
    take(make_mail(headers={"Auto-Submitted": "no"}))
    assert len(smtp_sink.wait_for(1)) == 1


def test_acknowledgements_are_capped_per_sender_and_hour(take, smtp_sink):
    now = timezone.now()
    for n in range(4):
        take(make_mail(subject=f"Mail {n}"), now=now + timedelta(minutes=n))
    take(make_mail(subject="Other sender", sender="erin@example.test"), now=now)
    take(make_mail(subject="An hour later"), now=now + timedelta(minutes=61))
    recipients = [m["To"] for m in smtp_sink.wait_for(5)]
    assert recipients.count("dana@example.test") == 4  # 3 in the first hour, 1 after
    assert recipients.count("erin@example.test") == 1


def test_a_mailbox_can_turn_acknowledgements_off(
    smtp_sink, support_queue, django_capture_on_commit_callbacks
):
    mailbox = Mailbox.objects.create(
        name="quiet", protocol="maildir", folder="/tmp", queue=support_queue,
        send_acknowledgement=False,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        ingest.ingest(make_mail(), mailbox=mailbox)
    assert smtp_sink.envelopes == []


def test_the_mailboxs_reply_address_sends_the_acknowledgement(
    smtp_sink, support_queue, django_capture_on_commit_callbacks
):
    mailbox = Mailbox.objects.create(
        name="help", protocol="maildir", folder="/tmp", queue=support_queue,
        reply_address="help@helpdesk.test",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        ingest.ingest(make_mail(), mailbox=mailbox)
    (mail,) = smtp_sink.wait_for(1)
    assert mail["From"] == "help@helpdesk.test"


def test_an_answer_to_an_existing_request_is_not_acknowledged(take, smtp_sink):
    number = take(make_mail(subject="Printer")).ticket.number
    smtp_sink.wait_for(1)
    take(make_mail(subject=f"Re: [{number}] Printer"))
    assert len(smtp_sink.envelopes) == 1


def test_the_received_mail_records_that_it_was_acknowledged(take, smtp_sink):
    result = take(make_mail())
    smtp_sink.wait_for(1)
    assert ReceivedMail.objects.get(ticket=result.ticket).acknowledged


def test_a_mail_whose_ingestion_rolls_back_is_not_acknowledged(
    support_queue, smtp_sink, django_capture_on_commit_callbacks
):
    # The acknowledgement is written by a subscriber after the commit: a request that
    # never committed cannot be confirmed to anyone.
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ingest.ingest(make_mail(), queue=support_queue)
        raise RuntimeError("the worker died before the commit")
    assert not Message.objects.exists() and smtp_sink.envelopes == []


def test_an_email_request_opened_in_the_desk_is_not_acknowledged_as_mail(
    support_queue, smtp_sink, committed
):
    with committed():
        workflow.create_ticket(
            queue=support_queue,
            subject="Called about mail",
            by=None,
            contact=ContactFactory(email="dana@example.test"),
            body="Typed in by an agent",
        )
    assert not Message.objects.filter(kind=Message.Kind.SYSTEM).exists()


def test_an_acknowledgement_that_failed_is_written_once_by_the_redispatch(
    take, smtp_sink, monkeypatch, committed
):
    real_acknowledge = acknowledgement.acknowledge

    def down(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(acknowledgement, "acknowledge", down)
    result = take(make_mail())
    assert not result.ticket.messages.filter(kind=Message.Kind.SYSTEM).exists()
    monkeypatch.setattr(acknowledgement, "acknowledge", real_acknowledge)
    later = timezone.now() + timedelta(minutes=5)
    with committed():
        events.redispatch_missed(now=later)
        events.redispatch_missed(now=later)
    assert result.ticket.messages.filter(kind=Message.Kind.SYSTEM).count() == 1
    assert len(smtp_sink.wait_for(1)) == 1
