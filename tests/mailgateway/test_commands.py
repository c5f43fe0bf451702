"""The ingest_eml and fetch_mail commands."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from mailgateway.models import Mailbox
from tests.factories import QueueFactory
from tests.mailgateway.conftest import MAIL_DIR, make_mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def test_ingest_eml_takes_a_folder_into_the_support_queue_and_sums_up(support_queue, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.eml").write_bytes(b"Subject: nobody wrote this\n\nhi\n")
    (folder / "notes.txt").write_text("not mail")
    lines = run("ingest_eml", str(MAIL_DIR), str(folder))
    assert lines[-1] == "ingested 8: 5 new, 2 appended, 0 duplicate, 1 quarantined"
    assert set(Ticket.objects.values_list("queue", flat=True)) == {support_queue.pk}


def test_ingest_eml_twice_finds_only_duplicates(support_queue):
    run("ingest_eml", str(MAIL_DIR / "html-only.eml"))
    lines = run("ingest_eml", str(MAIL_DIR / "html-only.eml"))
    assert lines[-1] == "ingested 1: 0 new, 0 appended, 1 duplicate, 0 quarantined"


def test_ingest_eml_into_a_named_queue_or_mailbox(support_queue, tmp_path):
    billing = QueueFactory(name="Billing")
    mailbox = Mailbox.objects.create(name="sales", protocol="maildir", folder="/x", queue=billing)
    (tmp_path / "a.eml").write_bytes(make_mail(subject="A"))
    (tmp_path / "b.eml").write_bytes(make_mail(subject="B"))
    run("ingest_eml", "--queue", "Billing", str(tmp_path / "a.eml"))
    run("ingest_eml", "--mailbox", mailbox.name, str(tmp_path / "b.eml"))
    assert set(Ticket.objects.values_list("queue__name", flat=True)) == {"Billing"}


def test_ingest_eml_reads_a_maildir(support_queue, tmp_path):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "Maildir" / sub).mkdir(parents=True)
    (tmp_path / "Maildir" / "new" / "1.host").write_bytes(make_mail())
    assert run("ingest_eml", str(tmp_path / "Maildir"))[-1].startswith("ingested 1: 1 new")


def test_ingest_eml_refuses_an_unknown_queue_or_mailbox(support_queue):
    with pytest.raises(CommandError, match="no queue named 'Nope'"):
        run("ingest_eml", "--queue", "Nope", str(MAIL_DIR))
    with pytest.raises(CommandError, match="no mailbox"):
        run("ingest_eml", "--mailbox", "Nope", str(MAIL_DIR))


def test_ingest_eml_without_the_default_queue_says_how_to_get_it(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("ingest_eml", str(MAIL_DIR))


def test_ingest_eml_counts_an_unreadable_path_as_not_read(support_queue, tmp_path):
    lines = run("ingest_eml", str(tmp_path / "missing.eml"))
    assert lines[-1] == "ingested 0: 0 new, 0 appended, 0 duplicate, 0 quarantined"


def test_fetch_mail_polls_the_named_mailbox(maildir_mailbox):
    (Path(maildir_mailbox.folder) / "new" / "1.host").write_bytes(make_mail())
    assert run("fetch_mail", "--mailbox", maildir_mailbox.name) == ["local: 1 new"]
    assert run("fetch_mail") == ["local: no new mail"]


def test_fetch_mail_reports_a_failing_mailbox(maildir_mailbox):
    Mailbox.objects.filter(pk=maildir_mailbox.pk).update(folder="/nonexistent")
    with pytest.raises(CommandError, match="could not be polled"):
        run("fetch_mail")
    with pytest.raises(CommandError, match="no mailbox named"):
        run("fetch_mail", "--mailbox", "nope")


def test_ingest_eml_of_a_mail_with_nul_bytes_makes_a_request_on_postgresql(
    postgres, support_queue, tmp_path
):
    raw = make_mail(subject="Scanner log", body="Line one\x00\x00 line two\x00")
    path = tmp_path / "nul.eml"
    path.write_bytes(raw)
    lines = run("ingest_eml", str(path))
    assert lines[-1] == "ingested 1: 1 new, 0 appended, 0 duplicate, 0 quarantined"
    message = Ticket.objects.get(subject="Scanner log").messages.get(direction="in")
    assert message.body_text == "Line one line two"
    with message.raw.open("rb") as stored:
        assert stored.read() == raw  # the source keeps its bytes
