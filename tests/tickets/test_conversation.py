"""Replies, forwards, questions to colleagues and the mail they send."""

from smtplib import SMTPServerDisconnected

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mailgateway import outbound, outbox
from mailgateway.models import OutgoingMail
from tests.factories import (
    ContactFactory,
    QueueFactory,
    ReplyTemplateFactory,
    TicketFactory,
    UserFactory,
)
from tickets import replies, workflow
from tickets.models import Channel, Event, Message
from tickets.workflow import StaleEdit, WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(first_name="Alice", last_name="Agent")


@pytest.fixture
def ticket():
    contact = ContactFactory(email="dana@example.test", name="Dana")
    return TicketFactory(queue=QueueFactory(email_address="support@helpdesk.test"), contact=contact)


def reply(ticket, agent, body="We are on it.", **kwargs):
    return workflow.reply_to_customer(ticket, by=agent, body=body, **kwargs)


def test_a_reply_is_mailed_to_the_contact_with_number_and_threading_headers(
    ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    first = ticket.messages.get()
    first.message_id = "<question@example.test>"
    first.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket, agent, cc="boss@example.test")
    (mail,) = mailoutbox
    assert mail.to == ["dana@example.test"] and mail.cc == ["boss@example.test"]
    assert mail.subject == f"[{ticket.number}] {ticket.subject}"
    assert mail.from_email == "support@helpdesk.test"
    assert mail.extra_headers["In-Reply-To"] == "<question@example.test>"
    assert mail.extra_headers["References"] == "<question@example.test>"
    assert mail.extra_headers["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert message.sent_at is not None and message.is_public


def test_the_first_reply_sets_replied_at_and_later_ones_keep_it(ticket, agent):
    first = reply(ticket, agent)
    reply(ticket, agent, body="And another thing.")
    ticket.refresh_from_db()
    assert ticket.replied_at == first.created_at
    assert Event.objects.filter(ticket=ticket, action="replied").count() == 2


def test_a_second_reply_references_the_first(ticket, agent):
    first = reply(ticket, agent)
    second = reply(ticket, agent, body="Update.")
    assert second.in_reply_to == first.message_id
    assert second.references.split()[-1] == first.message_id


def test_an_empty_reply_is_refused_and_nothing_is_written(ticket, agent):
    with pytest.raises(WorkflowError, match="no text"):
        reply(ticket, agent, body="  ")
    assert ticket.messages.count() == 1


def test_an_internal_request_has_no_customer_to_reply_to(agent):
    internal = TicketFactory(channel=Channel.INTERNAL, contact=None, by=agent)
    with pytest.raises(WorkflowError, match="internal"):
        reply(internal, agent)


def test_attachments_are_stored_and_sent(ticket, agent, mailoutbox, committed):
    upload = SimpleUploadedFile("../../etc/quote 1.pdf", b"%PDF quote", "application/pdf")
    with committed():
        message = reply(ticket, agent, attachments=[upload])
    attachment = message.attachments.get()
    assert attachment.filename == "quote_1.pdf"
    assert attachment.file.read() == b"%PDF quote"
    assert mailoutbox[-1].attachments[0][0] == "quote_1.pdf"


def test_an_attachment_over_the_limit_is_refused(ticket, agent, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    with pytest.raises(WorkflowError, match="larger than"):
        reply(ticket, agent, attachments=[SimpleUploadedFile("big.bin", b"x" * 11)])
    assert ticket.messages.count() == 1


def test_a_sent_message_is_never_sent_twice(ticket, agent, mailoutbox, committed):
    with committed():
        message = reply(ticket, agent)
    message.refresh_from_db()
    assert message.sent_at is not None
    assert outbound.send_message(message) is None  # already sent: not queued again
    assert outbox.deliver_due() == 0
    assert len(mailoutbox) == 1


def test_a_failed_send_keeps_the_error_for_the_retry(ticket, agent, monkeypatch, committed):
    def refuse(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with committed():
        message = reply(ticket, agent)
    message.refresh_from_db()
    assert message.sent_at is None
    assert "unexpectedly closed" in message.send_error
    [mail] = OutgoingMail.objects.filter(message=message)
    assert (mail.state, mail.attempts) == (OutgoingMail.State.PENDING, 1)


def test_forwarding_goes_to_the_outside_party_hidden_from_the_customer(
    ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = workflow.forward_to_external(
            ticket, by=agent, to="parts@supplier.test", body="Do you have this battery?"
        )
    assert (message.is_external, message.is_public) == (True, False)
    (mail,) = mailoutbox
    assert mail.to == ["parts@supplier.test"]
    assert "Do you have this battery?" in mail.body
    assert ticket.messages.first().body_text in mail.body
    assert Event.objects.get(ticket=ticket, action="forwarded").new_value == "parts@supplier.test"


def test_asking_a_colleague_adds_them_notes_the_question_and_tells_them(
    ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    colleague = UserFactory(email="bob@helpdesk.test")
    with django_capture_on_commit_callbacks(execute=True):
        note = workflow.ask_colleague(
            ticket, colleague=colleague, question="Seen this error before?", by=agent
        )
    assert (note.kind, note.is_public) == (Message.Kind.NOTE, False)
    assert list(ticket.collaborators.all()) == [colleague]
    (mail,) = mailoutbox
    assert mail.to == ["bob@helpdesk.test"]
    assert "Seen this error before?" in mail.body
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"


def test_asking_yourself_or_without_a_question_is_refused(ticket, agent):
    with pytest.raises(WorkflowError, match="someone other"):
        workflow.ask_colleague(ticket, colleague=agent, question="Hm?", by=agent)
    with pytest.raises(WorkflowError, match="question"):
        workflow.ask_colleague(ticket, colleague=UserFactory(), question=" ", by=agent)


def test_an_email_request_opened_by_an_agent_sends_its_first_message(
    agent, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="erin@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(
            contact=contact, by=agent, body="Your new laptop is ready.", outbound_email=True
        )
    message = ticket.messages.get()
    assert (message.direction, message.author) == (Message.Direction.OUTBOUND, agent)
    assert ticket.owner == agent
    assert mailoutbox[0].to == ["erin@example.test"]


def test_a_phone_request_sends_no_email(agent, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        TicketFactory(channel=Channel.PHONE, by=agent, body="Customer called about X.")
    assert mailoutbox == []


def test_a_stale_edit_is_refused(ticket, agent):
    seen = ticket.updated_at
    workflow.update_ticket(ticket, subject="Changed by a colleague", by=UserFactory())
    with pytest.raises(StaleEdit, match="changed by someone else"):
        workflow.update_ticket(ticket, subject="My edit", by=agent, seen_at=seen)
    ticket.refresh_from_db()
    assert ticket.subject == "Changed by a colleague"


def test_opening_marks_read_only_for_the_owner(ticket, agent):
    workflow.assign_ticket(ticket, owner=agent, by=UserFactory())
    assert ticket.is_unread
    workflow.mark_read(ticket, by=UserFactory())
    assert ticket.is_unread
    workflow.mark_read(ticket, by=agent)
    ticket.refresh_from_db()
    assert not ticket.is_unread


def test_reply_template_placeholders_are_filled_and_unknown_ones_kept(ticket, agent):
    template = ReplyTemplateFactory(
        subject="Re: {subject}",
        body="Dear {contact_name},\nabout {number}: {unknown}\n{agent_name}",
    )
    subject, body = replies.render_template(template, ticket, agent)
    assert subject == f"Re: {ticket.subject}"
    assert body == f"Dear Dana,\nabout {ticket.number}: {{unknown}}\nAlice Agent"


def test_templates_for_a_request_are_its_queue_and_the_global_ones(ticket):
    mine = ReplyTemplateFactory(queue=ticket.queue, name="Mine")
    common = ReplyTemplateFactory(queue=None, name="Common")
    ReplyTemplateFactory(queue=QueueFactory(), name="Other queue")
    assert set(replies.templates_for(ticket)) == {mine, common}
