"""The mail gateway's admin: mailboxes without their passwords, the quarantine and its retry."""

import pytest
from django.urls import reverse

from mailgateway import ingest
from mailgateway.models import Mailbox, QuarantinedMail
from tests.mailgateway.conftest import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(support_queue):
    return Mailbox.objects.create(
        name="support", host="imap.example.test", username="support", password="hunter2",
        queue=support_queue,
    )  # fmt: skip


def form_data(mailbox, **changes):
    data = {
        "name": mailbox.name, "is_active": "on", "queue": mailbox.queue_id, "reply_address": "",
        "protocol": mailbox.protocol, "host": mailbox.host, "port": "", "security": "tls",
        "username": mailbox.username, "password": "", "folder": "INBOX", "poll_interval": 60,
        "send_acknowledgement": "on", "acks_per_hour": 3, "reopen_days": 14,
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_mailbox_page_never_shows_the_password(admin_client, mailbox):
    page = admin_client.get(reverse("admin:mailgateway_mailbox_change", args=[mailbox.pk]))
    assert page.status_code == 200 and b"hunter2" not in page.content


def test_saving_without_a_password_keeps_the_old_one(admin_client, mailbox):
    url = reverse("admin:mailgateway_mailbox_change", args=[mailbox.pk])
    response = admin_client.post(url, form_data(mailbox, folder="Support"))
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password == "hunter2" and mailbox.folder == "Support"
    admin_client.post(url, form_data(mailbox, password="new-secret"))
    mailbox.refresh_from_db()
    assert mailbox.password == "new-secret"


def test_a_server_mailbox_needs_a_host(admin_client, mailbox):
    url = reverse("admin:mailgateway_mailbox_change", args=[mailbox.pk])
    response = admin_client.post(url, form_data(mailbox, host=""))
    assert response.status_code == 200 and b"needs its host" in response.content


def test_the_quarantine_lists_held_mail_and_retries_it(admin_client, support_queue, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "parse", lambda raw: 1 / 0)
        ingest.ingest(make_mail(subject="Held back"), queue=support_queue)
    held = QuarantinedMail.objects.get()
    changelist = reverse("admin:mailgateway_quarantinedmail_changelist")
    assert b"Held back" in admin_client.get(changelist).content
    response = admin_client.post(
        changelist, {"action": "retry", "_selected_action": [held.pk]}, follow=True
    )
    assert b"1 mail taken in." in response.content
    assert not QuarantinedMail.objects.exists()


def test_a_quarantined_mail_can_be_downloaded_whole(admin_client, support_queue):
    raw = b"To: support@helpdesk.test\nSubject: anonymous\n\nhi\n"
    ingest.ingest(raw, queue=support_queue)
    held = QuarantinedMail.objects.get()
    response = admin_client.post(
        reverse("admin:mailgateway_quarantinedmail_changelist"),
        {"action": "download", "_selected_action": [held.pk]},
    )
    assert response.content == raw and response["Content-Type"] == "message/rfc822"


def test_poll_now_reports_a_failing_mailbox(admin_client, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(protocol="maildir", folder="/nonexistent")
    response = admin_client.post(
        reverse("admin:mailgateway_mailbox_changelist"),
        {"action": "poll_now", "_selected_action": [mailbox.pk]},
        follow=True,
    )
    assert b"not a Maildir" in response.content
