"""Taking in mail: new requests, threading, reopening, duplicates and the quarantine."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mailgateway import ingest
from mailgateway.models import QuarantinedMail, ReceivedMail
from tests.factories import ContactFactory, QueueFactory, TicketFactory, UserFactory
from tests.mailgateway.conftest import fixture_mail, make_mail
from tickets import workflow
from tickets.models import Contact, Event, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def take(raw, queue, **kwargs):
    return ingest.ingest(raw, queue=queue, **kwargs)


def inbound(ticket):
    return ticket.messages.filter(direction=Message.Direction.INBOUND)


@pytest.fixture
def request_1(support_queue):
    """SUP-00001 from dana@example.test, with the agent's reply <bounced-reply@...>."""
    take(make_mail(subject="Printer", message_id="<question-1@example.test>"), support_queue)
    ticket = Ticket.objects.get(number="SUP-00001")
    workflow.reply_to_customer(ticket, by=UserFactory(), body="We are on it.")
    ticket.messages.filter(direction="out", author__isnull=False).update(
        message_id="<bounced-reply@helpdesk.localhost>"
    )
    return ticket


def test_a_new_mail_becomes_a_request_from_its_sender(support_queue):
    raw = make_mail(sender="Dana Customer <dana@example.test>", headers={"Cc": "b@example.test"})
    result = take(raw, support_queue)
    ticket = result.ticket
    assert result.outcome == "new" and ticket.queue == support_queue
    assert ticket.contact.email == "dana@example.test" and ticket.contact.name == "Dana Customer"
    message = inbound(ticket).get()
    assert message.cc == "b@example.test" and message.message_id.startswith("<")
    assert message.body_text == "Please help, the printer smokes."
    assert message.raw.read() == raw
    received = ReceivedMail.objects.get()
    assert received.ticket == ticket and received.ticket_message == message


def test_the_sender_matches_a_contact_case_insensitively(support_queue):
    contact = ContactFactory(email="Dana@Example.test", name="")
    result = take(make_mail(sender="Dana C <DANA@example.TEST>"), support_queue)
    assert result.ticket.contact == contact
    contact.refresh_from_db()
    assert contact.name == "Dana C" and Contact.objects.count() == 1


def test_the_same_mail_twice_makes_one_message(support_queue):
    raw = make_mail()
    assert take(raw, support_queue).outcome == "new"
    assert take(raw, support_queue).outcome == "duplicate"
    assert Message.objects.filter(direction="in").count() == 1


def test_mail_without_a_message_id_is_recognised_by_its_bytes(support_queue):
    raw = b"From: dana@example.test\nSubject: no id\n\nhello\n"
    assert take(raw, support_queue).outcome == "new"
    assert take(raw, support_queue).outcome == "duplicate"
    assert take(raw + b"again\n", support_queue).outcome == "new"


def test_mail_the_helpdesk_sent_itself_is_not_taken_in(request_1, support_queue):
    own = make_mail(message_id="<bounced-reply@helpdesk.localhost>")
    assert take(own, support_queue).outcome == "duplicate"


@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_in_the_same_mail_at_once_make_one_message(postgres, support_queue):
    raw = make_mail()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(take(raw, support_queue).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["duplicate", "new"]
    assert Message.objects.filter(direction="in").count() == 1


def test_a_reply_with_the_number_in_the_subject_is_appended(request_1, support_queue):
    result = take(fixture_mail("reply-with-number.eml"), support_queue)
    assert result.outcome == "appended" and result.ticket == request_1
    message = inbound(request_1).last()
    assert message.cc == "Boss <boss@example.test>" and message.is_public
    assert message.author_contact == request_1.contact  # DANA@ is dana@, case aside
    request_1.refresh_from_db()
    assert request_1.is_unread


def test_a_reply_from_someone_else_is_appended_as_theirs(request_1, support_queue):
    raw = make_mail(sender="Boss <boss@example.test>", subject=f"Re: [{request_1.number}]")
    message = take(raw, support_queue).message
    assert message.ticket == request_1 and message.author_contact.email == "boss@example.test"


def test_a_reply_found_by_in_reply_to_is_appended(request_1, support_queue):
    raw = make_mail(subject="Re: Printer", in_reply_to="<bounced-reply@helpdesk.localhost>")
    assert take(raw, support_queue).ticket == request_1


def test_a_number_of_another_queues_scheme_is_recognised(request_1, support_queue):
    other = QueueFactory(numbering_scheme="BIL-{year}-{month}-{seq:04}")
    bill = TicketFactory(queue=other)
    raw = make_mail(subject=f"Re: {bill.number} wrong invoice")
    assert take(raw, support_queue).ticket == bill


def test_an_unknown_number_starts_a_new_request(support_queue):
    result = take(make_mail(subject="Re: [SUP-99999] Printer"), support_queue)
    assert result.outcome == "new" and result.ticket.number == "SUP-00001"


def test_a_reply_to_a_closed_request_reopens_it_within_the_window(request_1, support_queue):
    workflow.close_ticket(request_1, resolved=True, by=None)
    later = timezone.now() + timedelta(days=3)
    result = take(fixture_mail("reply-with-number.eml"), support_queue, now=later)
    request_1.refresh_from_db()
    assert result.ticket == request_1 and request_1.base_status == Status.Base.ACTIVE
    assert Event.objects.filter(ticket=request_1, action="reopened").exists()


def test_a_late_reply_starts_a_new_request_linked_to_the_old_one(request_1, support_queue):
    workflow.close_ticket(request_1, resolved=True, by=None)
    later = timezone.now() + timedelta(days=15)  # the default window is 14 days
    result = take(fixture_mail("reply-with-number.eml"), support_queue, now=later)
    request_1.refresh_from_db()
    assert result.outcome == "new" and result.ticket != request_1
    assert request_1.base_status == Status.Base.CLOSED
    assert list(result.ticket.related.all()) == [request_1]


def test_an_automatic_reply_does_not_reopen_a_closed_request(request_1, support_queue):
    workflow.close_ticket(request_1, resolved=True, by=None)
    result = take(fixture_mail("out-of-office.eml"), support_queue)
    request_1.refresh_from_db()
    assert result.ticket == request_1 and request_1.base_status == Status.Base.CLOSED


def test_a_customer_answer_wakes_a_postponed_request(request_1, support_queue):
    workflow.postpone_ticket(request_1, until=timezone.now() + timedelta(days=2), by=None)
    take(fixture_mail("reply-with-number.eml"), support_queue)
    request_1.refresh_from_db()
    assert request_1.base_status == Status.Base.ACTIVE


def test_a_reply_to_a_merged_request_lands_in_the_survivor(request_1, support_queue):
    survivor = TicketFactory(queue=support_queue)
    workflow.merge_ticket(request_1, into=survivor, by=None)
    assert take(fixture_mail("reply-with-number.eml"), support_queue).ticket == survivor


def test_an_outside_partys_answer_is_an_external_message(request_1, support_queue):
    forward = workflow.forward_to_external(
        request_1, by=None, to="supplier@parts.example.test", body="Can you help?"
    )
    raw = make_mail(
        sender="Supplier <supplier@parts.example.test>",
        subject=f"Re: {forward.subject}",
        in_reply_to=forward.message_id,
    )
    result = take(raw, support_queue)
    message = result.message
    assert result.ticket == request_1 and message.is_external and not message.is_public
    assert message.author_contact is None and "supplier@parts" in message.from_address


def test_a_bounce_attaches_to_the_request_of_the_bounced_mail(request_1, support_queue):
    result = take(fixture_mail("bounce.eml"), support_queue)
    assert result.outcome == "appended" and result.ticket == request_1
    assert not result.message.is_public
    assert "mailbox unknown" in result.message.body_text
    assert Ticket.objects.count() == 1


def test_a_forwarded_mail_is_readable_in_place_and_its_files_kept(support_queue):
    message = take(fixture_mail("forwarded.eml"), support_queue).message
    assert "See the shop's answer below." in message.body_text
    assert "Subject: Your order 4711" in message.body_text
    assert "Your order 4711 has shipped." in message.body_text
    names = sorted(a.filename for a in message.attachments.all())
    assert names == ["Your order 4711.eml", "label.pdf"]


def test_mislabelled_and_legacy_charsets_are_decoded(support_queue):
    message = take(fixture_mail("charsets.eml"), support_queue).message
    assert message.ticket.subject == "Grüße – Rechnung € 100"
    assert message.ticket.contact.name == "Jörg Müller"
    assert "Die Rechnung über 100 € ist falsch." in message.body_text
    assert "Привет" in message.body_text
    attachment = message.attachments.get()
    assert attachment.filename == "报价.txt" and attachment.file.read().decode("gbk") == "报价单"


def test_html_only_mail_is_sanitized_and_turned_into_text(support_queue):
    message = take(fixture_mail("html-only.eml"), support_queue).message
    html = message.body_html
    assert "<script" not in html and "alert" not in html and "onload" not in html
    assert "javascript:" not in html and "<style" not in html
    assert 'data-remote-src="https://tracker.example.test/pixel.gif"' in html
    assert ' src="https://tracker' not in html
    assert 'href="https://example.test/invoice"' in html
    assert message.body_text.startswith("Hello team,")
    assert "- first\n- second" in message.body_text and "Grüße" in message.body_text


def test_inline_images_are_stored_with_their_content_id(support_queue):
    from tickets.display import inline_html

    message = take(fixture_mail("inline-image.eml"), support_queue).message
    image = message.attachments.get()
    assert image.content_id == "error-shot@example.test" and image.content_type == "image/png"
    assert 'src="cid:error-shot@example.test"' in message.body_html
    shown = inline_html(message.body_html, {image.content_id: image.file.url})
    assert f'src="{image.file.url}"' in shown
    assert message.body_text.startswith("See the screenshot:")


def test_an_attachment_over_the_limit_is_noted_not_stored(support_queue, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    message = take(fixture_mail("forwarded.eml"), support_queue).message
    assert "larger than the" in message.body_text
    assert message.raw.size > 0
    assert {a.filename for a in message.attachments.all()} == set()


def test_mail_without_a_sender_is_quarantined_with_the_reason(support_queue):
    raw = b"To: support@helpdesk.test\nSubject: who am I\nMessage-ID: <anon@x.test>\n\nhi\n"
    result = take(raw, support_queue)
    assert result.outcome == "quarantined" and "sender" in result.error
    held = QuarantinedMail.objects.get()
    assert bytes(held.raw) == raw and held.queue == support_queue and "sender" in held.error
    assert take(raw, support_queue).outcome == "duplicate"


def test_an_empty_mail_is_quarantined(support_queue):
    assert take(b"\n\n", support_queue).outcome == "quarantined"


def test_a_quarantined_mail_goes_in_when_retried_after_a_fix(support_queue, monkeypatch):
    raw = make_mail(subject="Broken today")
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "parse", lambda raw: 1 / 0)
        assert take(raw, support_queue).outcome == "quarantined"
    held = QuarantinedMail.objects.get()
    assert "ZeroDivisionError" in held.error
    result = ingest.retry(held.pk)
    held.refresh_from_db()
    assert result.outcome == "new" and held.outcome == "new" and held.raw in (b"", memoryview(b""))
    assert held.ticket.subject == "Broken today" and not QuarantinedMail.objects.exists()
    assert ingest.retry(held.pk).outcome == "duplicate"


def test_a_retry_that_fails_again_keeps_the_mail_with_the_new_error(support_queue):
    raw = b"To: support@helpdesk.test\nSubject: still nobody\n\nhi\n"
    take(raw, support_queue)
    held = QuarantinedMail.objects.get()
    result = ingest.retry(held.pk)
    held.refresh_from_db()
    assert result.outcome == "quarantined" and held.error.startswith("Retry failed")
    assert held.retried_at is not None and bytes(held.raw) == raw


def test_ingest_needs_a_mailbox_or_a_queue():
    with pytest.raises(ValueError):
        ingest.ingest(make_mail())
