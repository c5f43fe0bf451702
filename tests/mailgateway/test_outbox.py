"""The outbox: every mail is stored, sent by a task, retried with backoff, sent once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail as django_mail
from django.core.mail import send_mail
from django.utils import timezone

from mailgateway import outbound, outbox
from mailgateway.models import OutgoingMail
from tests.factories import AdminFactory, TicketFactory, UserFactory
from tickets import workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, contact__email="carla@example.test")


def ask_approval(client, ticket):
    return client.post(
        f"/desk/requests/{ticket.number}/approval/", {"text": "Approve the quote of 240 EUR?"}
    )


def test_an_approval_mail_waits_out_a_mail_server_outage_and_goes_once(
    agent_client, ticket, smtp_sink, committed
):
    smtp_sink.stop()
    with committed():
        response = ask_approval(agent_client, ticket)
    assert response.status_code == 302  # the agent's page, not an error: the mail waits
    [mail] = OutgoingMail.objects.filter(kind="approval")
    assert (mail.state, mail.attempts) == (OutgoingMail.State.PENDING, 1)
    assert "refused" in mail.last_error.lower()
    assert mail.next_attempt_at > timezone.now()

    assert outbox.deliver_due() == 0  # its pause is not over
    smtp_sink.start()
    later = timezone.now() + timedelta(minutes=2)
    with committed():
        assert outbox.deliver_due(now=later) == 1
        assert outbox.deliver_due(now=later + timedelta(hours=3)) == 0
    [received] = smtp_sink.wait_for(1)
    assert received["To"] == "carla@example.test"
    assert "240 EUR" in received.get_body().get_content()
    mail.refresh_from_db()
    assert mail.state == OutgoingMail.State.SENT and mail.sent_at is not None
    assert len(smtp_sink.envelopes) == 1


def test_a_reply_goes_out_once_with_its_threading_and_is_marked_sent(
    ticket, agent, smtp_sink, committed
):
    ticket.messages.update(message_id="<printer@example.test>")  # the customer's mail
    with committed():
        reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    [received] = smtp_sink.wait_for(1)
    assert received["Message-ID"] == reply.message_id
    assert received["In-Reply-To"] == "<printer@example.test>"
    assert "<printer@example.test>" in received["References"]
    reply.refresh_from_db()
    assert reply.sent_at is not None and reply.send_error == ""
    with committed():
        assert outbox.deliver(reply.outgoing_mails.get().pk) is False  # sent: never again
    assert len(smtp_sink.envelopes) == 1


def test_a_mail_another_worker_holds_is_left_alone(ticket, agent, mailoutbox):
    reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    stored = outbound.send_message(reply)
    OutgoingMail.objects.filter(pk=stored.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert outbox.deliver(stored.pk) is False
    assert mailoutbox == []


def test_the_same_key_twice_is_one_mail(ticket, agent):
    reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    assert outbound.send_message(reply) == outbound.send_message(reply)
    assert OutgoingMail.objects.filter(message=reply).count() == 1


def test_after_its_last_attempt_a_mail_has_failed_and_an_admin_sends_it_again(
    client, ticket, agent, monkeypatch, mailoutbox, committed
):
    def refuse(self, messages):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with committed():
        reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    stored = reply.outgoing_mails.get()
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        now += timedelta(days=2)
        outbox.deliver_due(now=now)
    stored.refresh_from_db()
    assert (stored.state, stored.attempts) == (OutgoingMail.State.FAILED, outbox.MAX_ATTEMPTS)
    assert "unreachable" in stored.last_error

    monkeypatch.undo()
    client.force_login(AdminFactory())
    with committed():
        response = client.post(
            "/admin/mailgateway/outgoingmail/",
            {"action": "send_again", "_selected_action": [stored.pk]},
            follow=True,
        )
    assert "queued to be sent again" in response.content.decode()
    stored.refresh_from_db()
    assert stored.state == OutgoingMail.State.SENT
    assert [m.subject for m in mailoutbox] == [reply.subject]


def test_resending_a_sent_mail_keeps_the_first_record(ticket, agent, mailoutbox, committed):
    with committed():
        reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    first = reply.outgoing_mails.get()
    with committed():
        again = outbox.resend(first)
    assert again.pk != first.pk and again.state == OutgoingMail.State.PENDING
    again.refresh_from_db()
    assert again.state == OutgoingMail.State.SENT
    assert len(mailoutbox) == 2 and mailoutbox[1].subject == reply.subject


def test_the_outbox_lists_mail_for_admins(client, ticket, agent, committed):
    with committed():
        workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    client.force_login(AdminFactory())
    page = client.get("/admin/mailgateway/outgoingmail/").content.decode()
    assert ticket.contact.email in page and "Sent" in page


def test_djangos_own_mail_takes_the_outbox_when_it_is_the_backend(settings, committed):
    settings.EMAIL_BACKEND = outbox.OUTBOX_BACKEND_PATH
    settings.OUTBOX_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    django_mail.outbox = []
    with committed():
        send_mail("Your sign-in link", "Click it.", None, ["carla@example.test"])
    [stored] = OutgoingMail.objects.filter(kind="django")
    assert stored.state == OutgoingMail.State.SENT
    assert [m.subject for m in django_mail.outbox] == ["Your sign-in link"]


def test_a_file_of_a_mail_without_a_message_is_kept_and_sent(settings, committed):
    settings.EMAIL_BACKEND = outbox.OUTBOX_BACKEND_PATH
    settings.OUTBOX_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    django_mail.outbox = []
    email = django_mail.EmailMessage("Report", "Attached.", None, ["boss@example.test"])
    email.attach("report.csv", "a,b\n1,2\n", "text/csv")
    with committed():
        email.send()
    [sent] = django_mail.outbox
    [attachment] = sent.attachments
    assert tuple(attachment) == ("report.csv", "a,b\n1,2\n", "text/csv")
    assert OutgoingMail.objects.get(kind="django").state == OutgoingMail.State.SENT


def test_a_sent_mail_is_a_record_an_admin_reads_but_does_not_edit(client, ticket, agent, committed):
    with committed():
        reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    stored = reply.outgoing_mails.get()
    client.force_login(AdminFactory())
    page = client.get(f"/admin/mailgateway/outgoingmail/{stored.pk}/change/").content.decode()
    assert "carla@example.test" in page and "It is fixed." in page
    assert 'name="_save"' not in page
    response = client.post(
        f"/admin/mailgateway/outgoingmail/{stored.pk}/change/", {"subject": "Rewritten"}
    )
    assert response.status_code == 403
    stored.refresh_from_db()
    assert stored.subject == reply.subject


def test_only_who_may_change_the_outbox_sends_mail_again(client, ticket, agent, committed):
    with committed():
        reply = workflow.reply_to_customer(ticket, by=agent, body="It is fixed.")
    stored = reply.outgoing_mails.get()
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_outgoingmail"))
    client.force_login(reader)
    page = client.get("/admin/mailgateway/outgoingmail/")
    assert page.status_code == 200 and "send_again" not in page.content.decode()
    with committed():
        client.post(
            "/admin/mailgateway/outgoingmail/",
            {"action": "send_again", "_selected_action": [stored.pk]},
        )
    assert OutgoingMail.objects.count() == 1  # no second mail was queued
