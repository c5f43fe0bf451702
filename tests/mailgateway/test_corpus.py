"""The public corpora beside the checkout (../shared/corpora): OTRS's and Zammad's test
mail. Every message becomes a request or a message, or is quarantined with a reason; none
crashes the run or vanishes. Where Zammad's expectation files give the subject, the sender
or a plain-text body, what was stored matches them."""

import base64
import re
from pathlib import Path

import pytest

from mailgateway import ingest
from mailgateway.models import ReceivedMail
from mailgateway.parse import parse

CORPORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not beside the checkout"),
]

# Where Zammad 5.2.2's expectation records its own shortcoming or choice, not the mail's.
KNOWN_DIFFERENCES = {
    "mail018": "Zammad leaves the UTF-7 subject undecoded (+ANw-); it is decoded here",
    "mail044": "Zammad keeps the invalid address claudia.shu@yahoo.com. (a trailing dot)",
    "mail046": "Zammad reads the GB2312 display name as Latin-2",
    "mail053": "From is MAILER-DAEMON without a domain: quarantined (no contact possible)",
    "mail076": "From's address is broken (a quoted phrase and a stray >): quarantined",
    "mail081": "the sender redacted@redacted has no domain: quarantined (no contact possible)",
    "mail087": "Zammad keeps 'Test test@example.com' whole as the display name",
    "mail092": "Zammad drops the (Mail Delivery System) comment from the display name",
    "mail093": "a raw Shift_JIS subject in an ISO-2022-JP mail; Zammad guesses Japanese",
}
# Attachment names Zammad invents or dedupes its own way (e.g. "image.jpg" for no name).
INVENTED_NAMES = {
    "file", "document.html", "document1.html", "message.html",
    "Screen Shot 2018-12-17 at 091.00.38.png",
}  # fmt: skip


def corpus_files():
    return sorted(p for p in CORPORA.rglob("*") if p.suffix in (".box", ".eml"))


def expectations():
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "!ruby/", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
    )
    Loader.add_constructor(
        "!binary", lambda loader, node: base64.b64decode(loader.construct_scalar(node))
    )
    for path in sorted((CORPORA / "zammad-mail").glob("*.yml")):
        yield path.with_suffix(".box"), yaml.load(path.read_bytes(), Loader=Loader)


def flat(text) -> str:
    text = "" if text in (None, "no visible content") else str(text)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def corpus_ingested(support_queue):
    """Every corpus file taken in once: {path: result}."""
    return {path: ingest.ingest(path.read_bytes(), queue=support_queue) for path in corpus_files()}


def test_every_corpus_mail_is_taken_in_or_quarantined_with_a_reason(corpus_ingested):
    outcomes = {result.outcome for result in corpus_ingested.values()}
    assert outcomes <= {"new", "appended", "duplicate", "quarantined"}
    for path, result in corpus_ingested.items():
        if result.outcome == "quarantined":
            assert result.error, path
        elif result.outcome != "duplicate":
            assert result.message.raw and result.message.ticket_id, path
    distinct = {ingest.mail_key(p.read_bytes())[0] for p in corpus_ingested}
    assert ReceivedMail.objects.count() == len(distinct)  # nothing vanished
    quarantined = [p.name for p, r in corpus_ingested.items() if r.outcome == "quarantined"]
    assert len(quarantined) <= 8, quarantined


def stored_view(message) -> dict:
    return {
        "subject": message.subject,
        "from_email": message.ticket.contact.email,
        "from": message.from_address,
        "body": message.body_text,
        "attachments": {a.filename for a in message.attachments.all()},
    }


def parsed_view(raw: bytes) -> dict:
    mail = parse(raw)
    return {
        "subject": mail.subject,
        "from_email": mail.addresses_from[0] if mail.addresses_from else "",
        "from": f"{mail.from_name} <{mail.from_address}>",
        "body": mail.body_text,
        "attachments": {a.filename for a in mail.attachments},
    }


def test_stored_mail_matches_zammads_expectations(corpus_ingested):
    by_key = {r.key: r for r in ReceivedMail.objects.select_related("ticket_message__ticket")}
    mismatches = []
    for box, expected in expectations():
        if box.stem in KNOWN_DIFFERENCES:
            continue
        result = corpus_ingested[box]
        if result.outcome == "duplicate":
            # another corpus mail has its Message-ID and was stored; check what it parses to
            record = by_key[ingest.mail_key(box.read_bytes())[0]]
            assert record.outcome in ("new", "appended"), (box.name, record.error)
            seen = parsed_view(box.read_bytes())
        else:
            assert result.outcome in ("new", "appended"), (box.name, result.error)
            seen = stored_view(result.message)
        if "subject" in expected and flat(expected["subject"]) != flat(seen["subject"]):
            mismatches.append((box.name, "subject", expected["subject"], seen["subject"]))
        email = (expected.get("from_email") or "").lower()
        if email and email != seen["from_email"].lower():
            mismatches.append((box.name, "from_email", email, seen["from_email"]))
        name = flat(expected.get("from_display_name"))
        if name and name not in flat(seen["from"]):
            mismatches.append((box.name, "from_display_name", name, seen["from"]))
        plain = expected.get("content_type") == "text/plain" and "body" in expected
        if plain and not flat(seen["body"]).startswith(flat(expected["body"])):
            mismatches.append((box.name, "body", flat(expected["body"])[:80]))
        for attachment in expected.get("attachments") or []:
            filename = attachment.get("filename")
            if filename and filename not in INVENTED_NAMES | seen["attachments"]:
                mismatches.append((box.name, "attachment", filename, sorted(seen["attachments"])))
    assert mismatches == []
