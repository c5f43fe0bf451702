"""Actions on the request page: each goes through tickets.workflow; refusals are shown."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    MessageFactory,
    QueueFactory,
    ReplyTemplateFactory,
    StatusFactory,
    TicketFactory,
    UserFactory,
)
from tickets import workflow
from tickets.models import Channel, Event, Message, ReplyTemplate, Stage, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, agent):
    ticket = TicketFactory(queue=queue, subject="Printer on fire", body="It smokes.", owner=agent)
    # The customer's email, so replies have something to thread to.
    MessageFactory(ticket=ticket, message_id="<first@customer.test>", body_text="Still smoking.")
    return ticket


@pytest.fixture
def colleague(queue):
    colleague = UserFactory(first_name="Bob", email="bob@helpdesk.test")
    queue.members.add(colleague)
    return colleague


def url(name, ticket, *args):
    return reverse(f"desk:{name}", args=[ticket.number, *args])


def post(client, name, ticket, data=None, *args):
    return client.post(url(name, ticket, *args), data or {})


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def assert_back_on_the_page(response, ticket):
    assert response.status_code == 302
    assert response.url == url("request", ticket)


# Reply


def test_reply_sends_an_email_threaded_to_the_customer(
    agent_client, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            agent_client, "request_reply", ticket, {"body": "Unplug it.", "time_units": 2}
        )
    assert_back_on_the_page(response, ticket)
    [email] = mailoutbox
    assert f"[{ticket.number}]" in email.subject
    assert email.to == [ticket.contact.email]
    assert email.extra_headers["In-Reply-To"] == "<first@customer.test>"
    assert "<first@customer.test>" in email.extra_headers["References"]
    assert email.extra_headers["Message-ID"]
    assert "Unplug it." in email.body
    assert fresh(ticket).replied_at is not None


def test_reply_sends_cc_bcc_and_attachments(
    agent_client, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    files = [
        SimpleUploadedFile("manual.pdf", b"%PDF manual", content_type="application/pdf"),
        SimpleUploadedFile("photo.jpg", b"jpeg", content_type="image/jpeg"),
    ]
    data = {
        "body": "See attached.",
        "cc": "boss@example.test; it@example.test",
        "bcc": "audit@helpdesk.test",
        "attachments": files,
        "time_units": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        post(agent_client, "request_reply", ticket, data)
    [email] = mailoutbox
    assert email.cc == ["boss@example.test", "it@example.test"]
    assert email.bcc == ["audit@helpdesk.test"]
    assert sorted(name for name, _, _ in email.attachments) == ["manual.pdf", "photo.jpg"]


def test_reply_only_the_first_sets_replied_at(agent_client, ticket):
    post(agent_client, "request_reply", ticket, {"body": "First", "time_units": 0})
    first = fresh(ticket).replied_at
    post(agent_client, "request_reply", ticket, {"body": "Second", "time_units": 0})
    assert fresh(ticket).replied_at == first


def test_empty_reply_shows_an_error_next_to_the_text(agent_client, ticket, mailoutbox):
    response = post(agent_client, "request_reply", ticket, {"body": "  ", "time_units": 0})
    assert response.status_code == 200
    assert "Write the reply." in response.text
    assert 'id="panel-reply" class="collapse show"' in response.text
    assert mailoutbox == []


def test_reply_refuses_a_bad_cc_address(agent_client, ticket):
    data = {"body": "Hi", "cc": "not-an-address", "time_units": 0}
    response = post(agent_client, "request_reply", ticket, data)
    assert "“not-an-address” is not an email address." in response.text
    assert not ticket.messages.filter(direction=Message.Direction.OUTBOUND).exists()


def test_reply_refuses_a_negative_time(agent_client, ticket):
    response = post(agent_client, "request_reply", ticket, {"body": "Hi", "time_units": -1})
    assert "greater than or equal to 0" in response.text


def test_reply_to_an_internal_request_is_refused(agent_client, queue, agent):
    internal = TicketFactory(queue=queue, channel=Channel.INTERNAL, contact=None, by=agent)
    response = post(agent_client, "request_reply", internal, {"body": "Hi", "time_units": 0})
    assert response.status_code == 200
    assert "there is no customer to reply to" in response.text


def test_reply_refuses_a_too_large_attachment(agent_client, ticket, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * 11)
    data = {"body": "Hi", "attachments": [big], "time_units": 0}
    response = post(agent_client, "request_reply", ticket, data)
    assert "is larger than" in response.text
    assert not ticket.messages.filter(direction=Message.Direction.OUTBOUND).exists()


def test_reply_box_starts_with_the_queues_signature(agent_client, ticket):
    ticket.queue.signature = "--\n{agent_name}, Support team"
    ticket.queue.save()
    response = agent_client.get(url("request", ticket))
    assert "Alice Agent, Support team" in response.text


def test_reply_template_fills_placeholders_and_keeps_the_signature(agent_client, ticket):
    ticket.queue.signature = "The Support team"
    ticket.queue.save()
    template = ReplyTemplateFactory(queue=ticket.queue, body="Hello {contact_name}, re {number}.")
    response = agent_client.get(
        url("request_template", ticket, template.pk), headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div id="reply-text">')
    assert f"Hello {ticket.contact.name}, re {ticket.number}." in response.text
    assert "The Support team" in response.text
    assert "Re: Printer on fire" in response.text


def test_reply_template_of_another_queue_is_404(agent_client, ticket):
    template = ReplyTemplateFactory(queue=QueueFactory())
    assert agent_client.get(url("request_template", ticket, template.pk)).status_code == 404


def test_reply_template_picker_lists_the_queues_and_global_templates(agent_client, ticket):
    ReplyTemplateFactory(name="Queue's own", queue=ticket.queue)
    ReplyTemplateFactory(name="For everyone")
    ReplyTemplateFactory(name="Someone else's", queue=QueueFactory())
    ReplyTemplateFactory(name="Print layout", purpose=ReplyTemplate.Purpose.PRINT)
    html = agent_client.get(url("request", ticket)).text
    assert "Queue&#x27;s own" in html
    assert "For everyone" in html
    assert "Someone else" not in html
    assert "Print layout" not in html


def test_reply_and_note_buttons_have_access_keys(agent_client, ticket):
    html = agent_client.get(url("request", ticket)).text
    assert 'accesskey="r"' in html
    assert 'accesskey="t"' in html


# Notes


def test_note_is_added_pinned_with_time_units(agent_client, ticket, agent):
    data = {"text": "Toner is empty.", "pinned": "on", "time_units": 5}
    response = post(agent_client, "request_note", ticket, data)
    assert_back_on_the_page(response, ticket)
    note = ticket.messages.get(kind=Message.Kind.NOTE)
    assert (note.body_text, note.is_pinned, note.time_units) == ("Toner is empty.", True, 5)
    assert not note.is_public
    assert note.author == agent


def test_empty_note_shows_an_error(agent_client, ticket):
    response = post(agent_client, "request_note", ticket, {"text": "", "time_units": 0})
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not ticket.messages.filter(kind=Message.Kind.NOTE).exists()


def test_whitespace_note_is_refused_by_the_workflow(agent_client, ticket):
    response = post(agent_client, "request_note", ticket, {"text": "   \n ", "time_units": 0})
    assert response.status_code == 200
    assert "This field is required." in response.text


def test_note_is_pinned_and_unpinned(agent_client, ticket, agent):
    note = workflow.add_note(ticket, text="Remember", by=agent)
    post(agent_client, "request_note_pin", ticket, {"pinned": "1"}, note.pk)
    note.refresh_from_db()
    assert note.is_pinned
    post(agent_client, "request_note_pin", ticket, {"pinned": "0"}, note.pk)
    note.refresh_from_db()
    assert not note.is_pinned


def test_pinning_a_customer_message_is_404(agent_client, ticket):
    message = ticket.messages.first()
    response = post(agent_client, "request_note_pin", ticket, {"pinned": "1"}, message.pk)
    assert response.status_code == 404


def test_latest_note_is_deleted_by_its_author(agent_client, ticket, agent):
    note = workflow.add_note(ticket, text="Oops", by=agent)
    response = post(agent_client, "request_note_delete", ticket, {}, note.pk)
    assert_back_on_the_page(response, ticket)
    assert not Message.objects.filter(pk=note.pk).exists()
    assert Event.objects.filter(ticket=ticket, action="note_deleted", old_value="Oops").exists()


def test_note_delete_by_someone_else_is_refused_with_a_message(client, ticket, agent, colleague):
    note = workflow.add_note(ticket, text="Alice's", by=agent)
    client.force_login(colleague)
    response = post(client, "request_note_delete", ticket, {}, note.pk)
    assert_back_on_the_page(response, ticket)
    assert flash(response) == ["Only the author of a note can delete it."]
    assert Message.objects.filter(pk=note.pk).exists()


def test_deleting_an_older_note_is_refused(agent_client, ticket, agent):
    older = workflow.add_note(ticket, text="First", by=agent)
    workflow.add_note(ticket, text="Second", by=agent)
    response = post(agent_client, "request_note_delete", ticket, {}, older.pk)
    assert flash(response) == ["Only the latest note can be deleted."]


def test_deleting_an_unknown_note_is_404(agent_client, ticket):
    assert post(agent_client, "request_note_delete", ticket, {}, 999999).status_code == 404


# Ask a colleague, forward


def test_ask_a_colleague_adds_them_posts_a_note_and_emails_them(
    agent_client, ticket, colleague, mailoutbox, django_capture_on_commit_callbacks
):
    data = {"colleague": colleague.pk, "question": "Seen this model before?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = post(agent_client, "request_ask", ticket, data)
    assert_back_on_the_page(response, ticket)
    assert colleague in ticket.collaborators.all()
    assert ticket.messages.filter(kind=Message.Kind.NOTE, body_text=data["question"]).exists()
    [email] = mailoutbox
    assert email.to == ["bob@helpdesk.test"]
    assert ticket.number in email.subject


def test_ask_refuses_someone_outside_the_queue(agent_client, ticket):
    data = {"colleague": UserFactory().pk, "question": "Help?"}
    response = post(agent_client, "request_ask", ticket, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not ticket.collaborators.exists()


def test_ask_refuses_a_colleague_without_email(agent_client, ticket, colleague):
    colleague.email = ""
    colleague.save()
    data = {"colleague": colleague.pk, "question": "Help?"}
    response = post(agent_client, "request_ask", ticket, data)
    assert "has no email address" in response.text


def test_ask_without_a_question_shows_an_error(agent_client, ticket, colleague):
    response = post(agent_client, "request_ask", ticket, {"colleague": colleague.pk})
    assert "This field is required." in response.text


def test_forward_emails_an_outside_party_hidden_from_the_customer(
    agent_client, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    data = {"to": "parts@supplier.test", "text": "Do you have a fuser?", "time_units": 1}
    with django_capture_on_commit_callbacks(execute=True):
        response = post(agent_client, "request_forward", ticket, data)
    assert_back_on_the_page(response, ticket)
    [email] = mailoutbox
    assert email.to == ["parts@supplier.test"]
    assert "Do you have a fuser?" in email.body
    assert "Still smoking." in email.body
    forwarded = ticket.messages.get(to="parts@supplier.test")
    assert forwarded.is_external
    assert not forwarded.is_public


def test_forward_refuses_a_bad_address(agent_client, ticket, mailoutbox):
    data = {"to": "supplier", "text": "Hi", "time_units": 0}
    response = post(agent_client, "request_forward", ticket, data)
    assert "Enter a valid email address." in response.text
    assert mailoutbox == []


# Stages


def test_occasional_actions_load_their_form_when_the_panel_is_opened(agent_client, ticket):
    html = agent_client.get(url("request", ticket)).text
    assert 'id="panel-close"' in html and 'name="resolved"' not in html
    response = agent_client.get(url("request_fields", ticket, "close"))
    assert 'name="resolved"' in response.text
    assert "navbar" not in response.text
    assert agent_client.get(url("request_fields", ticket, "explode")).status_code == 404


def test_action_fields_of_a_request_in_another_queue_are_404(agent_client):
    foreign = TicketFactory(queue=QueueFactory())
    assert agent_client.get(url("request_fields", foreign, "close")).status_code == 404


def test_progress_moves_to_the_next_stage(agent_client, ticket):
    response = post(agent_client, "request_progress", ticket)
    assert_back_on_the_page(response, ticket)
    assert fresh(ticket).stage.name == "Triage"


def test_progress_on_a_closed_request_is_refused_with_a_message(agent_client, ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    response = post(agent_client, "request_progress", ticket)
    assert_back_on_the_page(response, ticket)
    assert flash(response) == [f"{ticket.number} is closed; reactivate it before you progress it."]
    assert fresh(ticket).stage.state == Stage.State.CLOSED


def test_progress_at_the_last_stage_asks_to_close(agent_client, ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    workflow.progress_ticket(ticket, by=agent)
    response = post(agent_client, "request_progress", ticket)
    assert "close it, saying whether it was resolved" in flash(response)[0]


def test_regress_moves_back_and_keeps_the_reason(agent_client, ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    response = post(agent_client, "request_regress", ticket, {"reason": "Needs triage again"})
    assert_back_on_the_page(response, ticket)
    assert fresh(ticket).stage.state == Stage.State.NEW
    assert ticket.events.get(action="regressed").reason == "Needs triage again"


def test_regress_without_a_reason_shows_the_error_next_to_the_field(agent_client, ticket, agent):
    workflow.progress_ticket(ticket, by=agent)
    response = post(agent_client, "request_regress", ticket, {"reason": ""})
    assert response.status_code == 200
    assert 'id="panel-regress" class="collapse show"' in response.text
    assert 'id="error_1_id_reason"' in response.text
    assert fresh(ticket).stage.name == "Triage"


def test_regress_at_the_first_stage_is_refused(agent_client, ticket):
    response = post(agent_client, "request_regress", ticket, {"reason": "Why not"})
    assert response.status_code == 200
    assert "is at its first stage" in response.text


# Status


def test_postpone_until_a_future_time(agent_client, ticket):
    until = timezone.localtime() + timedelta(days=2)
    response = post(agent_client, "request_postpone", ticket, {"until": f"{until:%Y-%m-%dT%H:%M}"})
    assert_back_on_the_page(response, ticket)
    ticket = fresh(ticket)
    assert ticket.base_status == Status.Base.POSTPONED
    assert ticket.postponed_until.replace(second=0) == until.replace(second=0, microsecond=0)


def test_postpone_with_a_custom_status(agent_client, ticket):
    waiting = StatusFactory(name="Waiting for customer", base=Status.Base.POSTPONED)
    until = timezone.localtime() + timedelta(days=1)
    data = {"until": f"{until:%Y-%m-%dT%H:%M}", "status": waiting.pk}
    post(agent_client, "request_postpone", ticket, data)
    assert fresh(ticket).status == waiting


def test_postpone_into_the_past_shows_the_error_next_to_the_date(agent_client, ticket):
    past = timezone.localtime() - timedelta(hours=1)
    response = post(agent_client, "request_postpone", ticket, {"until": f"{past:%Y-%m-%dT%H:%M}"})
    assert response.status_code == 200
    assert "Postpone until a time in the future." in response.text
    assert 'id="error_1_id_until"' in response.text
    assert fresh(ticket).base_status == Status.Base.ACTIVE


def test_postpone_with_a_garbled_date_shows_an_error(agent_client, ticket):
    response = post(agent_client, "request_postpone", ticket, {"until": "next tuesday"})
    assert "Enter a valid date/time." in response.text


def test_reactivate_a_postponed_request(agent_client, ticket, agent):
    workflow.postpone_ticket(ticket, until=timezone.now() + timedelta(days=1), by=agent)
    response = post(agent_client, "request_reactivate", ticket)
    assert_back_on_the_page(response, ticket)
    assert fresh(ticket).base_status == Status.Base.ACTIVE


def test_reactivate_an_active_request_is_refused(agent_client, ticket):
    response = post(agent_client, "request_reactivate", ticket)
    assert flash(response) == [f"{ticket.number} is already active."]


def test_close_records_whether_it_was_resolved(agent_client, ticket):
    response = post(agent_client, "request_close", ticket, {"resolved": "no"})
    assert_back_on_the_page(response, ticket)
    ticket = fresh(ticket)
    assert ticket.base_status == Status.Base.CLOSED
    assert ticket.resolved is False


def test_close_without_saying_resolved_shows_the_error(agent_client, ticket):
    response = post(agent_client, "request_close", ticket, {})
    assert response.status_code == 200
    assert "Say whether the request was resolved." in response.text
    assert fresh(ticket).base_status == Status.Base.ACTIVE


def test_close_twice_is_refused(agent_client, ticket, agent):
    workflow.close_ticket(ticket, resolved=True, by=agent)
    response = post(agent_client, "request_close", ticket, {"resolved": "yes"})
    assert response.status_code == 200
    assert "is already closed" in response.text


def test_delete_and_restore(agent_client, ticket):
    response = post(agent_client, "request_delete", ticket)
    assert_back_on_the_page(response, ticket)
    assert fresh(ticket).base_status == Status.Base.DELETED
    post(agent_client, "request_restore", ticket)
    assert fresh(ticket).base_status == Status.Base.ACTIVE


def test_restore_of_a_request_that_is_not_deleted_is_refused(agent_client, ticket):
    response = post(agent_client, "request_restore", ticket)
    assert flash(response) == [f"{ticket.number} is not deleted."]


def test_actions_on_a_deleted_request_are_refused(agent_client, ticket, agent):
    workflow.delete_ticket(ticket, by=agent)
    response = post(agent_client, "request_note", ticket, {"text": "Hi", "time_units": 0})
    assert response.status_code == 200
    assert "is deleted; restore it first." in response.text


def test_action_endpoints_refuse_get(agent_client, ticket):
    assert agent_client.get(url("request_progress", ticket)).status_code == 405


# Merge and link


def test_merge_into_another_request_goes_to_the_survivor(agent_client, ticket, queue):
    survivor = TicketFactory(queue=queue)
    response = post(agent_client, "request_merge", ticket, {"number": survivor.number})
    assert response.status_code == 302
    assert response.url == url("request", survivor)
    assert fresh(ticket).merged_into == survivor
    assert flash(response) == [f"{ticket.number} is merged into {survivor.number}."]


def test_merge_into_itself_shows_an_error_next_to_the_number(agent_client, ticket):
    response = post(agent_client, "request_merge", ticket, {"number": ticket.number})
    assert response.status_code == 200
    assert "A request cannot be merged into itself." in response.text
    assert 'id="error_1_id_number"' in response.text
    assert fresh(ticket).merged_into is None


def test_merge_into_an_invisible_request_is_refused_like_an_unknown_one(agent_client, ticket):
    hidden = TicketFactory(queue=QueueFactory())
    response = post(agent_client, "request_merge", ticket, {"number": hidden.number})
    assert f"There is no request {hidden.number} that you can see." in response.text
    assert fresh(ticket).merged_into is None


def test_merge_search_finds_open_requests_by_number_or_subject(agent_client, ticket, queue, agent):
    by_subject = TicketFactory(queue=queue, subject="Printer jammed")
    closed = TicketFactory(queue=queue, subject="Printer toner")
    workflow.close_ticket(closed, resolved=True, by=agent)
    hidden = TicketFactory(queue=QueueFactory(), subject="Printer secret")
    response = agent_client.get(url("request_merge_search", ticket), {"q": "printer"})
    assert by_subject.number in response.text
    assert closed.number not in response.text
    assert hidden.number not in response.text
    assert f'value="{ticket.number}"' not in response.text
    response = agent_client.get(url("request_merge_search", ticket), {"q": by_subject.number})
    assert "Printer jammed" in response.text


def test_merge_search_without_words_lists_nothing(agent_client, ticket):
    response = agent_client.get(url("request_merge_search", ticket), {"q": " "})
    assert response.status_code == 200
    assert "list-group" not in response.text


def test_link_and_unlink_a_related_request(agent_client, ticket, queue):
    other = TicketFactory(queue=queue)
    response = post(agent_client, "request_link", ticket, {"number": other.number.lower()})
    assert_back_on_the_page(response, ticket)
    assert other in ticket.related.all()
    post(agent_client, "request_unlink", ticket, {}, other.number)
    assert not ticket.related.exists()


def test_link_to_itself_is_refused_next_to_the_number(agent_client, ticket):
    response = post(agent_client, "request_link", ticket, {"number": ticket.number})
    assert response.status_code == 200
    assert "A request cannot be related to itself." in response.text
    assert "is-invalid" in response.text


def test_link_to_an_unknown_number_is_refused(agent_client, ticket):
    response = post(agent_client, "request_link", ticket, {"number": "NOPE-404"})
    assert "There is no request NOPE-404 that you can see." in response.text


def test_unlink_of_a_request_that_is_not_related_is_refused(agent_client, ticket, queue):
    other = TicketFactory(queue=queue)
    response = post(agent_client, "request_unlink", ticket, {}, other.number)
    assert flash(response) == [f"{ticket.number} and {other.number} are not related."]


# Email the request to the contact


def test_email_the_request_lists_its_public_messages(
    agent_client, ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    workflow.add_note(ticket, text="Internal gossip", by=agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(agent_client, "request_email", ticket)
    assert_back_on_the_page(response, ticket)
    [email] = mailoutbox
    assert email.to == [ticket.contact.email]
    assert ticket.number in email.subject
    assert "It smokes." in email.body
    assert "Still smoking." in email.body
    assert "Internal gossip" not in email.body
    assert ticket.events.filter(action="emailed").exists()


def test_email_the_request_uses_the_queues_print_template(
    agent_client, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    ReplyTemplateFactory(
        purpose=ReplyTemplate.Purpose.PRINT,
        subject="Your request {number}",
        body="Dear {contact_name}, here it is:\n{messages}\nRegards",
    )
    ReplyTemplateFactory(
        queue=ticket.queue,
        purpose=ReplyTemplate.Purpose.PRINT,
        subject="Summary of {number}",
        body="Dear {contact_name}, your request so far:",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(agent_client, "request_email", ticket)
    [email] = mailoutbox
    assert email.subject == f"Summary of {ticket.number}"
    assert email.body.startswith(f"Dear {ticket.contact.name}, your request so far:")
    assert "It smokes." in email.body


def test_email_an_internal_request_is_refused(agent_client, queue, agent, mailoutbox):
    internal = TicketFactory(queue=queue, channel=Channel.INTERNAL, contact=None, by=agent)
    response = post(agent_client, "request_email", internal)
    assert flash(response) == [f"{internal.number} is internal: it has no contact to email."]
    assert mailoutbox == []


def test_note_without_time_units_counts_none(agent_client, ticket):
    post(agent_client, "request_note", ticket, {"text": "Quick look", "time_units": ""})
    assert ticket.messages.get(kind=Message.Kind.NOTE).time_units == 0
