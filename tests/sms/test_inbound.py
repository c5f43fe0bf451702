"""Receiving: threading into the sender's open request, a new request, the quarantine and
processing again, one message for a retried webhook, and the webhook's refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sms import inbound
from sms.models import IncomingSms
from tests.factories import ContactFactory, QueueFactory, TicketFactory
from tests.sms.conftest import SECRET, sms_from
from tickets import workflow
from tickets.models import Channel, Message, Ticket

pytestmark = pytest.mark.django_db
State = IncomingSms.State


@pytest.fixture
def dana(db):
    return ContactFactory(name="Dana", mobile="+49301234567")


def requests_of(contact, hours_ago):
    now = timezone.now()
    return [TicketFactory(contact=contact, now=now - timedelta(hours=h)) for h in hours_ago]


def test_an_sms_threads_into_the_senders_latest_open_request_however_the_number_is_written(
    dana, agent, webhook, committed
):
    older, latest, closed = requests_of(dana, hours_ago=[5, 3, 1])
    workflow.close_ticket(closed, resolved=True, by=agent)
    with committed():
        answer = webhook("inbound", sms_from("0049 30 1234567"))
    assert answer.status_code == 200 and answer.json()["state"] == "processed"
    message = latest.messages.get(kind=Message.Kind.SMS)
    assert (message.direction, message.author_contact, message.body_text) == (
        Message.Direction.INBOUND, dana, "The printer is still jammed",
    )  # fmt: skip
    assert (message.from_address, message.to) == ("+49301234567", "+49305550100")
    assert IncomingSms.objects.get().message == message


def test_of_several_contacts_with_the_number_the_one_with_the_latest_open_request_gets_it(dana):
    partner = ContactFactory(mobile=dana.mobile)
    [danas] = requests_of(dana, hours_ago=[4])
    [partners] = requests_of(partner, hours_ago=[2])
    incoming = inbound.receive(sms_from("+49 30 1234567"))
    assert incoming.ticket == partners and incoming.message.author_contact == partner
    assert not danas.messages.filter(kind=Message.Kind.SMS).exists()


def test_an_sms_with_no_open_request_opens_one_in_the_sms_queue(dana, settings):
    settings.SMS_QUEUE = QueueFactory(name="Texts").name
    incoming = inbound.receive(
        sms_from("+49301234567", body="Hello, my router blinks red since this morning, help")
    )
    ticket = incoming.ticket
    assert (ticket.channel, ticket.contact, ticket.queue.name) == (Channel.SMS, dana, "Texts")
    assert ticket.subject == "Hello, my router blinks red since this morning,…"
    assert ticket.messages.get() == incoming.message
    assert incoming.message.kind == Message.Kind.SMS


def test_new_requests_go_to_the_support_queue_unless_sms_queue_names_one(dana, settings):
    support = QueueFactory(name="Support")
    assert inbound.receive(sms_from("+49301234567", sid="SM1")).ticket.queue == support
    settings.SMS_QUEUE = "Gone"
    ContactFactory(mobile="+49307654321")
    incoming = inbound.receive(sms_from("+49307654321", sid="SM2"))
    assert incoming.state == State.QUARANTINED and "no queue named “Gone”" in incoming.reason


def test_an_unknown_number_is_quarantined_then_processed_once_a_contact_has_it(webhook):
    QueueFactory(name="Support")
    answer = webhook("inbound", sms_from("+4930 9876543"))
    assert answer.status_code == 200 and answer.json()["state"] == "quarantined"
    incoming = IncomingSms.objects.get()
    assert "No contact has the mobile number +49309876543" in incoming.reason
    assert not Ticket.objects.exists()
    contact = ContactFactory(mobile="+49309876543")
    incoming = inbound.process_again(incoming)
    assert (incoming.state, incoming.reason, incoming.ticket.contact) == (
        State.PROCESSED, "", contact,
    )  # fmt: skip
    assert inbound.process_again(incoming).message == incoming.message  # once only
    assert Message.objects.count() == 1


def test_a_number_that_is_no_number_is_quarantined_with_the_reason(db):
    incoming = inbound.receive(sms_from("ACME Ltd"))
    assert incoming.state == State.QUARANTINED
    assert incoming.reason.startswith("The sender's number cannot be read: “ACME Ltd”")
    assert incoming.payload["From"] == "ACME Ltd"


def test_a_retried_webhook_makes_one_message(dana, webhook):
    [ticket] = requests_of(dana, hours_ago=[1])
    first = webhook("inbound", sms_from("+49301234567"))
    again = webhook("inbound", sms_from("+49301234567"), as_json=True)
    assert first.json() == again.json()
    assert IncomingSms.objects.count() == 1
    assert ticket.messages.filter(kind=Message.Kind.SMS).count() == 1


def test_a_webhook_unsigned_signed_wrongly_or_late_is_refused(dana, webhook):
    cases = [
        ({"signed": False}, "Not signed"),
        ({"secret": "guess"}, "does not match"),
        ({"at": timezone.now() - timedelta(minutes=10)}, "more than five minutes off"),
    ]
    for how, reason in cases:
        answer = webhook("inbound", sms_from("+49301234567"), **how)
        assert (answer.status_code, reason in answer.content.decode()) == (403, True)
    assert not IncomingSms.objects.exists()


def test_without_a_secret_every_webhook_is_refused(webhook, settings):
    settings.SMS_WEBHOOK_SECRET = ""
    answer = webhook("inbound", sms_from("+49301234567"), secret="")
    assert answer.status_code == 403 and "SMS_WEBHOOK_SECRET" in answer.content.decode()


def test_a_malformed_webhook_is_a_400_with_the_reason(webhook, client):
    answer = webhook("inbound", {"From": "+49301234567", "Body": "Hi"})
    assert answer.status_code == 400
    assert answer.content.decode() == "Missing or not text: MessageSid, To."
    answer = webhook("inbound", ["not", "fields"], as_json=True)
    assert answer.content == b"The JSON body is not an object of fields."
    assert client.get("/sms/inbound/").status_code == 405
    assert not IncomingSms.objects.exists()


def test_a_body_that_is_not_json_is_a_400(client, settings):
    from integrations import webhooks

    settings.SMS_WEBHOOK_SECRET = SECRET
    timestamp = int(timezone.now().timestamp())
    answer = client.post(
        "/sms/inbound/",
        b"{nope",
        content_type="application/json",
        headers={
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": webhooks.sign(SECRET, timestamp, b"{nope"),
        },
    )
    assert answer.status_code == 400 and answer.content.startswith(b"The body is not JSON")
