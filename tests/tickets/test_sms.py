"""SMS in the request domain: what fits in an SMS, numbers, and writing one at the desk."""

import pytest

from mailgateway.models import OutgoingMail
from tests.factories import ContactFactory, TicketFactory
from tickets import events, sms, workflow
from tickets.forms.people import ContactForm
from tickets.models import Channel, DomainEvent, Event, Message, Ticket
from tickets.workflow import WorkflowError

URL = "/desk/requests/new/"


@pytest.mark.parametrize(
    ("text", "encoding", "length", "count"),
    [
        ("", "GSM-7", 0, 0),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table's characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("Grüße, Ærø", "GSM-7", 10, 1),
        ("Καλημέρα", "UCS-2", 8, 1),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # beyond the BMP: two UTF-16 units each
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_segments_follow_gsm_7_and_ucs_2(text, encoding, length, count):
    parts = sms.segments(text)
    assert (parts.encoding, parts.length, parts.count) == (encoding, length, count)


def test_a_text_over_the_limit_says_how_long_it_may_be(settings):
    settings.SMS_MAX_SEGMENTS = 2
    assert sms.too_long("x" * 306) == ""
    assert sms.too_long("x" * 307) == (
        "The SMS is 307 characters (GSM-7), 3 messages; at most 2 may be sent (306 characters)."
    )
    assert "134 characters with these characters" in sms.too_long("ж" * 135)


@pytest.mark.parametrize("written", ["+49 30 1234567", "0049 30 1234567", "+49 (30) 123-4567"])
def test_numbers_are_normalised_to_e164(written):
    assert sms.normalise_number(written) == "+49301234567"


def test_a_number_without_country_code_is_read_in_the_default_region(settings):
    with pytest.raises(sms.InvalidNumber, match="with its country code"):
        sms.normalise_number("030 1234567")
    settings.SMS_DEFAULT_REGION = "DE"
    assert sms.normalise_number("030 1234567") == "+49301234567"


@pytest.mark.parametrize("written", ["+49 1", "call me", "+999 123456"])
def test_a_wrong_number_is_refused_with_a_reason(written):
    with pytest.raises(sms.InvalidNumber, match="not a"):
        sms.normalise_number(written)


@pytest.mark.django_db
def test_the_contact_form_writes_the_mobile_number_in_e164_and_refuses_a_wrong_one():
    form = ContactForm(
        {"name": "Dana", "email": "dana@example.test", "mobile": "0049 151 2345 6789"}
    )
    assert form.is_valid(), form.errors
    assert form.save().mobile == "+4915123456789"
    form = ContactForm({"name": "Eve", "email": "eve@example.test", "mobile": "12"})
    assert not form.is_valid()
    assert "not a phone number" in form.errors["mobile"][0]


@pytest.fixture
def texted(db):
    return TicketFactory(contact=ContactFactory(name="Dana", mobile="+4915123456789"))


def test_an_sms_is_an_outbound_article_told_as_sent_by_sms_and_never_mailed(
    texted, agent, committed
):
    with committed():
        message = workflow.send_sms(texted, by=agent, body="Your laptop is ready.", time_units=3)
    assert (message.kind, message.direction, message.to) == ("sms", "out", "+4915123456789")
    assert message.is_public and message.time_units == 3 and message.author == agent
    event = DomainEvent.objects.get(name=events.MESSAGE_SENT)
    assert event.payload == {"message": message.pk, "kind": "sms"} and events.sent_by_sms(event)
    assert "mailgateway.send" not in event.handled
    assert not OutgoingMail.objects.exists()
    assert Event.objects.filter(ticket=texted, action="texted", new_value="+4915123456789").exists()
    texted.refresh_from_db()
    assert texted.replied_at == message.created_at


@pytest.mark.parametrize(
    ("mobile", "body", "reason"),
    [
        ("", "Hello", "has no mobile number"),
        ("+4915123456789", "   ", "has no text"),
        ("+4915123456789", "x" * 919, "at most 6 may be sent"),
    ],
)
def test_an_sms_that_cannot_go_is_refused_and_nothing_written(db, agent, mobile, body, reason):
    ticket = TicketFactory(contact=ContactFactory(mobile=mobile))
    with pytest.raises(WorkflowError, match=reason):
        workflow.send_sms(ticket, by=agent, body=body)
    assert not ticket.messages.filter(kind=Message.Kind.SMS).exists()


def test_an_internal_request_has_nobody_to_text(db, agent):
    ticket = TicketFactory(contact=None, channel=Channel.INTERNAL)
    with pytest.raises(WorkflowError, match="no customer to text"):
        workflow.send_sms(ticket, by=agent, body="Hello")


def test_the_sms_button_shows_only_for_a_contact_with_a_mobile_number(agent_client, queue):
    with_mobile = TicketFactory(queue=queue, contact=ContactFactory(mobile="+4915123456789"))
    without = TicketFactory(queue=queue, contact=ContactFactory(mobile=""))
    assert (
        'data-bs-target="#panel-sms"'
        in agent_client.get(f"/desk/requests/{with_mobile.number}/").content.decode()
    )
    assert (
        'data-bs-target="#panel-sms"'
        not in agent_client.get(f"/desk/requests/{without.number}/").content.decode()
    )


def test_the_sms_panel_has_the_counter_and_the_limit(agent_client, queue):
    ticket = TicketFactory(
        queue=queue, contact=ContactFactory(name="Dana", mobile="+4915123456789")
    )
    page = agent_client.get(f"/desk/requests/{ticket.number}/fields/sms/").content.decode()
    assert 'data-sms-counter="6"' in page and "SMS to Dana (+4915123456789)" in page
    assert "At most 6 messages" in page


def test_an_agent_texts_the_customer_from_the_request_page(agent_client, agent, queue):
    ticket = TicketFactory(queue=queue, contact=ContactFactory(mobile="+4915123456789"))
    response = agent_client.post(
        f"/desk/requests/{ticket.number}/sms/", {"body": "Ready for pick-up.", "time_units": "2"}
    )
    assert response.status_code == 302
    message = ticket.messages.get(kind=Message.Kind.SMS)
    assert (message.body_text, message.to, message.time_units) == (
        "Ready for pick-up.",
        "+4915123456789",
        2,
    )


def test_a_too_long_sms_comes_back_with_the_reason_and_the_text_kept(agent_client, queue):
    ticket = TicketFactory(queue=queue, contact=ContactFactory(mobile="+4915123456789"))
    text = "ж" * 403  # 7 UCS-2 messages of 67
    response = agent_client.post(f"/desk/requests/{ticket.number}/sms/", {"body": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The SMS is 403 characters (UCS-2), 7 messages" in page and text in page
    assert not ticket.messages.filter(kind=Message.Kind.SMS).exists()


def sms_request(queue, **fields):
    return {
        "channel": Channel.SMS,
        "queue": queue.pk,
        "subject": "Laptop ready",
        "body": "Your laptop is ready at the front desk.",
        "impact": "medium",
        "urgency": "medium",
        **fields,
    }


def test_an_sms_request_opens_with_an_sms_to_the_contact(agent_client, agent, queue, committed):
    contact = ContactFactory(mobile="+4915123456789")
    with committed():
        response = agent_client.post(URL, sms_request(queue, contact=contact.pk))
    ticket = Ticket.objects.get()
    assert response.url == f"/desk/requests/{ticket.number}/"
    assert ticket.channel == Channel.SMS and ticket.owner == agent
    first = ticket.messages.get()
    assert (first.kind, first.direction, first.to) == ("sms", "out", "+4915123456789")
    assert not OutgoingMail.objects.exists()


def test_an_sms_request_for_a_contact_without_a_mobile_number_is_refused(agent_client, queue):
    contact = ContactFactory(name="Dana", mobile="")
    response = agent_client.post(URL, sms_request(queue, contact=contact.pk))
    assert response.status_code == 200
    assert "has no mobile number: add one, or pick another channel." in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_sms_request_for_a_new_contact_needs_their_mobile_number(agent_client, queue):
    new = {"new-email": "dana@example.test", "new-name": "Dana"}
    response = agent_client.post(URL, sms_request(queue, **new))
    assert "An SMS needs the contact&#x27;s mobile number." in response.content.decode()
    assert not Ticket.objects.exists()
    agent_client.post(URL, sms_request(queue, **new, **{"new-mobile": "+49 151 23456789"}))
    assert Ticket.objects.get().contact.mobile == "+4915123456789"


def test_an_sms_request_over_the_limit_is_a_form_error(agent_client, queue):
    contact = ContactFactory(mobile="+4915123456789")
    response = agent_client.post(URL, sms_request(queue, contact=contact.pk, body="x" * 919))
    assert "7 messages; at most 6 may be sent" in response.content.decode()
    assert not Ticket.objects.exists()
