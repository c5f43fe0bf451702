"""Fetching from a real Dovecot (IMAP, POP3) and a local Maildir, and the polling rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailgateway import fetch
from mailgateway.models import Mailbox, ReceivedMail, SeenUid
from tests.mailgateway.conftest import make_mail
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def poll(mailbox, **kwargs):
    return fetch.poll_mailbox(mailbox.pk, **kwargs)


def test_imap_mail_becomes_a_request_and_is_flagged_seen(dovecot, imap_mailbox):
    dovecot.append(imap_mailbox.username, make_mail(subject="Printer on fire"))
    counts = poll(imap_mailbox)
    assert counts == {"new": 1}
    assert Ticket.objects.get().subject == "Printer on fire"
    assert b"\\Seen" in dovecot.flags(imap_mailbox.username)[0]


def test_imap_mail_is_flagged_only_after_it_is_committed(dovecot, imap_mailbox, monkeypatch):
    dovecot.append(imap_mailbox.username, make_mail())

    def crash(*args, **kwargs):
        raise ConnectionResetError("worker died before telling the server")

    with monkeypatch.context() as patch:
        patch.setattr(fetch.ImapSource, "done", crash)
        with pytest.raises(ConnectionResetError):
            poll(imap_mailbox)
    assert b"\\Seen" not in dovecot.flags(imap_mailbox.username)[0]
    assert poll(imap_mailbox) == {"duplicate": 1}
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert b"\\Seen" in dovecot.flags(imap_mailbox.username)[0]


def test_a_failed_ingestion_leaves_the_mail_unflagged(dovecot, imap_mailbox, monkeypatch):
    dovecot.append(imap_mailbox.username, make_mail())
    with monkeypatch.context() as patch:
        patch.setattr(fetch.ingest, "ingest", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            poll(imap_mailbox)
    assert b"\\Seen" not in dovecot.flags(imap_mailbox.username)[0]
    imap_mailbox.refresh_from_db()
    assert "ZeroDivisionError" in imap_mailbox.last_error and imap_mailbox.locked_until is None
    assert poll(imap_mailbox) == {"new": 1}


def test_imap_uidvalidity_change_refetches_without_duplicating(dovecot, imap_mailbox):
    user = imap_mailbox.username
    dovecot.append(user, make_mail(subject="First"))
    poll(imap_mailbox)
    imap_mailbox.refresh_from_db()
    first_validity = imap_mailbox.uid_validity
    dovecot.change_uid_validity(user)
    conn = dovecot.imap(user)  # mark it unseen again, as a server rebuild would
    conn.select("INBOX")
    conn.store("1", "-FLAGS", "(\\Seen)")
    conn.logout()
    dovecot.append(user, make_mail(subject="Second"))
    counts = poll(imap_mailbox)
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.uid_validity != first_validity
    assert counts == {"duplicate": 1, "new": 1}
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First", "Second"]


def test_imap_with_delete_after_fetch_expunges_the_mail(dovecot, imap_mailbox):
    imap_mailbox.delete_after_fetch = True
    imap_mailbox.save()
    dovecot.append(imap_mailbox.username, make_mail())
    poll(imap_mailbox)
    assert dovecot.flags(imap_mailbox.username) == []


def test_wrong_imap_password_is_recorded_on_the_mailbox(dovecot, imap_mailbox):
    imap_mailbox.password = "wrong"
    imap_mailbox.save()
    with pytest.raises(Exception, match="(?i)auth"):
        poll(imap_mailbox)
    imap_mailbox.refresh_from_db()
    assert "auth" in imap_mailbox.last_error.lower()


def test_pop3_deletes_after_commit_and_remembers_uidl(dovecot, pop3_mailbox):
    dovecot.append(pop3_mailbox.username, make_mail(subject="Via POP3"))
    assert poll(pop3_mailbox) == {"new": 1}
    assert Ticket.objects.get().subject == "Via POP3"
    assert dovecot.flags(pop3_mailbox.username) == []
    assert poll(pop3_mailbox) == {}


def test_pop3_crash_before_quit_deletes_next_time_without_duplicate(
    dovecot, pop3_mailbox, monkeypatch
):
    dovecot.append(pop3_mailbox.username, make_mail())
    with monkeypatch.context() as patch:
        # The connection drops after the commit and the UIDL is remembered, before QUIT.
        patch.setattr(fetch.Pop3Source, "close", lambda self: self.conn.close())
        poll(pop3_mailbox)
    assert len(dovecot.flags(pop3_mailbox.username)) == 1  # the server rolled DELE back
    assert SeenUid.objects.filter(mailbox=pop3_mailbox).count() == 1
    assert poll(pop3_mailbox) == {}
    assert dovecot.flags(pop3_mailbox.username) == []
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1


def test_pop3_keeping_mail_on_the_server_fetches_it_once(dovecot, pop3_mailbox):
    pop3_mailbox.delete_after_fetch = False
    pop3_mailbox.save()
    dovecot.append(pop3_mailbox.username, make_mail())
    poll(pop3_mailbox)
    assert poll(pop3_mailbox) == {}
    assert len(dovecot.flags(pop3_mailbox.username)) == 1


def test_maildir_mail_moves_to_cur_after_commit(maildir_mailbox):
    root = fetch.Path(maildir_mailbox.folder)
    (root / "new" / "1700000000.M1.host").write_bytes(make_mail(subject="From a Maildir"))
    assert poll(maildir_mailbox) == {"new": 1}
    assert list((root / "new").iterdir()) == []
    assert [p.name for p in (root / "cur").iterdir()] == ["1700000000.M1.host:2,S"]


def test_a_missing_maildir_is_an_error(maildir_mailbox, tmp_path):
    maildir_mailbox.folder = str(tmp_path / "nowhere")
    maildir_mailbox.save()
    with pytest.raises(FileNotFoundError):
        poll(maildir_mailbox)


def test_a_mailbox_locked_by_another_worker_is_not_polled(maildir_mailbox):
    now = timezone.now()
    Mailbox.objects.filter(pk=maildir_mailbox.pk).update(locked_until=now + timedelta(minutes=5))
    assert poll(maildir_mailbox, now=now) is None
    assert poll(maildir_mailbox, now=now + timedelta(minutes=6)) == {}  # the lock ran out


def test_a_poll_takes_a_bounded_batch_and_comes_back_for_the_rest(maildir_mailbox):
    root = fetch.Path(maildir_mailbox.folder)
    for n in range(3):
        (root / "new" / f"{n}.mail").write_bytes(make_mail(subject=f"Mail {n}"))
    now = timezone.now()
    assert poll(maildir_mailbox, now=now, limit=2) == {"new": 2}
    maildir_mailbox.refresh_from_db()
    assert maildir_mailbox.next_poll_at == now  # due again at once
    assert poll(maildir_mailbox, now=now, limit=2) == {"new": 1}
    maildir_mailbox.refresh_from_db()
    assert maildir_mailbox.next_poll_at == now + timedelta(seconds=maildir_mailbox.poll_interval)


def test_due_polls_start_once_per_interval(maildir_mailbox, django_capture_on_commit_callbacks):
    (fetch.Path(maildir_mailbox.folder) / "new" / "1.mail").write_bytes(make_mail())
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert fetch.start_due_polls(now=now) == 1
    assert ReceivedMail.objects.count() == 1  # the enqueued poll ran (eagerly)
    assert fetch.start_due_polls(now=now + timedelta(seconds=1)) == 0
    later = now + timedelta(seconds=maildir_mailbox.poll_interval + 1)
    assert fetch.start_due_polls(now=later) == 1


def test_inactive_mailboxes_are_not_started(maildir_mailbox):
    maildir_mailbox.is_active = False
    maildir_mailbox.save()
    assert fetch.start_due_polls() == 0
