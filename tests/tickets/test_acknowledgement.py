"""The automatic acknowledgement of a request opened on the portal."""

import pytest
from django.core import mail

from tests.factories import ReplyTemplateFactory
from tickets import customers
from tickets.models import Message, ReplyTemplate, Ticket

pytestmark = pytest.mark.django_db
ACK = ReplyTemplate.Purpose.ACKNOWLEDGEMENT


def open_request(client, queue, callbacks):
    with callbacks(execute=True):
        client.post(
            "/portal/requests/new/", {"queue": queue.pk, "subject": "Printer", "body": "Jams"}
        )
    return Ticket.objects.get(subject="Printer")


def test_the_customer_gets_the_queues_acknowledgement_by_email(
    customer_client, customer, portal_queue, django_capture_on_commit_callbacks
):
    ReplyTemplateFactory(purpose=ACK, queue=None, name="Global", body="Global text")
    ReplyTemplateFactory(
        purpose=ACK, queue=portal_queue, subject="We got {number}", body="Hi {contact_name}"
    )
    ticket = open_request(customer_client, portal_queue, django_capture_on_commit_callbacks)
    (sent,) = mail.outbox
    assert sent.to == [customer.email]
    assert sent.subject.endswith(f"We got {ticket.number}")
    assert "Hi Carla Customer" in sent.body
    message = ticket.messages.get(kind=Message.Kind.SYSTEM)
    assert message.sent_at is not None
    assert ticket.events.filter(action="acknowledged").exists()


def test_a_global_acknowledgement_serves_every_queue(
    customer_client, portal_queue, django_capture_on_commit_callbacks
):
    ReplyTemplateFactory(purpose=ACK, queue=None, body="Thanks for {number}")
    ticket = open_request(customer_client, portal_queue, django_capture_on_commit_callbacks)
    assert f"Thanks for {ticket.number}" in mail.outbox[0].body


def test_no_acknowledgement_template_sends_nothing(
    customer_client, portal_queue, django_capture_on_commit_callbacks
):
    ReplyTemplateFactory(purpose=ReplyTemplate.Purpose.REPLY, queue=None)
    ticket = open_request(customer_client, portal_queue, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert ticket.messages.count() == 1


def test_acknowledging_a_portal_request_reads_nothing_back(
    customer, portal_queue, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    ReplyTemplateFactory(purpose=ACK, queue=portal_queue, body="Hi {contact_name}")
    # 21 when the acknowledgement was written in the same transaction; it is written by a
    # subscriber to the request's creation now, after the commit.
    with django_assert_max_num_queries(15), django_capture_on_commit_callbacks() as after:
        ticket = customers.open_request(
            contact=customer, queue=portal_queue, subject="Printer", body="Jams"
        )
    assert not ticket.messages.filter(kind=Message.Kind.SYSTEM).exists()
    # Its events dispatched, the acknowledgement written and handed to SMTP; the request's
    # updated_at is not written again. Two queries only once in five minutes (then
    # cached): which triggers automation rules answer, which events webhooks want.
    with django_assert_max_num_queries(42), django_capture_on_commit_callbacks(execute=True):
        for callback in after:
            callback()
    acknowledgement = ticket.messages.get(kind=Message.Kind.SYSTEM)
    ticket.refresh_from_db()
    assert acknowledgement.in_reply_to == ticket.messages.get(kind=Message.Kind.PORTAL).message_id
    assert acknowledgement.created_at == ticket.updated_at
    assert acknowledgement.sent_at is not None
