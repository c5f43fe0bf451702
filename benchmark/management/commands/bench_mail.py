"""Benchmark: ingest N varied mails from a Maildir into the configured database.

Writes the mails (the corpora beside the checkout under fresh Message-IDs, plus synthetic
plain, HTML-only, attachment and reply mails) into a temporary Maildir, takes them in
through a Maildir mailbox exactly as a poll would (acknowledgements included, sent to a
dummy mail backend), and prints messages per second. Then it takes in one mail with a
20 MB attachment alone under tracemalloc and prints the peak Python memory it needed.
"""

import contextlib
import logging
import random
import re
import resource
import shutil
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from helpdesk.celery import app
from mailgateway import fetch
from mailgateway.models import Mailbox
from mailgateway.parse import ParseError, parse
from tickets.models import Priority, Queue, Stage, Ticket

CORPORA = Path(settings.BASE_DIR) / ".." / "shared" / "corpora"
_MESSAGE_ID = re.compile(rb"^message-id:.*(?:\r?\n[ \t].*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def _with_message_id(raw: bytes, message_id: str) -> bytes:
    """The mail under a new Message-ID, so each copy is a new mail and not a duplicate."""
    header = f"Message-ID: {message_id}\n".encode()
    raw = _MESSAGE_ID.sub(b"", raw, count=1)
    return header + raw


class Generator:
    def __init__(self, seed: int):
        # Repeatable test data, not secrets.
        self.random = random.Random(seed)  # nosec B311
        self.corpus = [
            p.read_bytes() for p in sorted(CORPORA.rglob("*")) if p.suffix in (".box", ".eml")
        ]
        self.sent: list[tuple[str, str]] = []  # (message id, subject) of earlier mails
        self.n = 0
        self.run = uuid.uuid4().hex[:8]  # a second run's mails are new mail too

    def message_id(self) -> str:
        self.n += 1
        return f"<bench-{self.run}-{self.n}@bench.example.test>"

    def mail(self) -> bytes:
        roll = self.random.random()
        if self.corpus and roll < 0.3:
            return _with_message_id(self.random.choice(self.corpus), self.message_id())
        if self.sent and roll < 0.5:
            return self._reply()
        return self._synthetic(html_only=roll > 0.85, attach=0.7 < roll <= 0.85)

    def _base(self, subject: str) -> EmailMessage:
        message = EmailMessage()
        sender = self.random.randrange(2000)
        message["From"] = f"Customer {sender} <customer{sender}@bench.example.test>"
        message["To"] = "support@helpdesk.test"
        message["Subject"] = subject
        message["Date"] = format_datetime(timezone.now())
        message["Message-ID"] = self.message_id()
        return message

    def _synthetic(self, *, html_only: bool, attach: bool) -> bytes:
        subject = f"Order {self.random.randrange(10**6)}: {self.random.choice(TOPICS)}"
        message = self._base(subject)
        words = " ".join(self.random.choice(WORDS) for _ in range(self.random.randrange(20, 400)))
        if html_only:
            message.set_content(f"<html><body><p>{words}</p><p>Grüße</p></body></html>", "html")
        else:
            message.set_content(f"Hello,\n\n{words}\n\nRegards")
        if attach:
            data = self.random.randbytes(self.random.randrange(1_000, 200_000))
            message.add_attachment(data, "application", "pdf", filename="scan.pdf")
        self.sent.append((message["Message-ID"], subject))
        return message.as_bytes()

    def _reply(self) -> bytes:
        message_id, subject = self.random.choice(self.sent)
        message = self._base(f"Re: {subject}")
        message["In-Reply-To"] = message_id
        message["References"] = message_id
        message.set_content("Any news on this?\n\n> earlier text")
        return message.as_bytes()

    def big(self, megabytes: int) -> bytes:
        message = self._base("A large scan")
        message.set_content("The scan is attached.")
        data = self.random.randbytes(megabytes * 2**20)
        message.add_attachment(data, "application", "octet-stream", filename="scan.tif")
        return message.as_bytes()


TOPICS = ["printer on fire", "invoice wrong", "cannot log in", "VPN drops", "new laptop"]
WORDS = [
    "the",
    "a",
    "printer",
    "invoice",
    "broken",
    "again",
    "please",
    "help",
    "urgent",
    "since",
    "monday",
    "our",
    "office",
]


def _maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def acknowledgements_to_nowhere() -> Iterator[None]:
    """Acknowledgements are written and sent inline, as their task would, to a mail backend
    that drops them: the figure includes sending, and nobody gets mail."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # Celery logs every task it runs inline; a thousand mails made a thousand lines.
    trace = logging.getLogger("celery.app.trace")
    level = trace.level
    trace.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            yield
    finally:
        app.conf.task_always_eager = eager
        trace.setLevel(level)


def mailbox_for(name: str, folder: Path) -> Mailbox:
    """A Maildir mailbox on `folder` feeding the "Benchmark" queue (made once)."""
    priority = Priority.objects.order_by("rank").first() or Priority.objects.create(
        name="Medium", rank=2
    )
    queue, created = Queue.objects.get_or_create(
        name="Benchmark",
        defaults={
            "numbering_scheme": "BEN-{seq:07}",
            "email_address": "bench@helpdesk.test",
            "default_priority": priority,
        },
    )
    if created:
        queue.add_system_stages()
    if queue.stage(Stage.State.NEW) is None:
        raise CommandError(f"The queue {queue} has no New stage to take mail in.")
    mailbox, _ = Mailbox.objects.update_or_create(
        name=name,
        defaults={"protocol": Mailbox.Protocol.MAILDIR, "folder": str(folder), "queue": queue},
    )
    return mailbox


def write_mails(maildir: Path, generator: Generator, count: int) -> int:
    """`count` varied mails into the Maildir's new/; returns their size in bytes."""
    total_bytes = 0
    for n in range(count):
        raw = generator.mail()
        total_bytes += len(raw)
        (maildir / "new" / f"{n:06d}.bench").write_bytes(raw)
    return total_bytes


@dataclass
class Ingestion:
    outcomes: Counter
    seconds: float
    queries: int

    @property
    def mails(self) -> int:
        return sum(self.outcomes.values())

    @property
    def per_second(self) -> float:
        return self.mails / self.seconds


def ingest_all(mailbox: Mailbox) -> Ingestion:
    """Poll the mailbox, as beat would, until it is empty: timed, with its queries."""
    outcomes: Counter = Counter()
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started = time.monotonic()
    with connection.execute_wrapper(count):
        while True:
            polled = fetch.poll_mailbox(mailbox.pk, limit=fetch.BATCH)
            outcomes.update(polled)
            if sum(polled.values()) == 0:
                break
    return Ingestion(outcomes=outcomes, seconds=time.monotonic() - started, queries=queries)


def ingestion(count: int, *, seed: int = 5) -> Ingestion:
    """Take in `count` varied mails through a Maildir mailbox (for `manage.py bench`)."""
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as root:
        maildir = _maildir(Path(root) / "bench")
        write_mails(maildir, Generator(seed), count)
        with acknowledgements_to_nowhere():
            return ingest_all(mailbox_for("benchmark", maildir))


class Command(BaseCommand):
    help = "Benchmark mail ingestion: N varied mails from a Maildir, and one 20 MB attachment."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10_000)
        parser.add_argument("--big-mb", type=int, default=20)
        parser.add_argument("--seed", type=int, default=5)

    def handle(self, *args, count, big_mb, seed, **options):
        root = Path(tempfile.mkdtemp(prefix="bench-mail-"))
        try:
            with acknowledgements_to_nowhere():
                self._run(root, count, big_mb, seed)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _run(self, root: Path, count: int, big_mb: int, seed: int) -> None:
        generator = Generator(seed)
        maildir = _maildir(root / "bench")
        started = time.monotonic()
        total_bytes = write_mails(maildir, generator, count)
        self.stdout.write(
            f"wrote {count} mails ({total_bytes / 2**20:.1f} MB, {len(generator.corpus)} corpus "
            f"templates) in {time.monotonic() - started:.1f} s"
        )
        started = time.monotonic()
        for path in sorted((maildir / "new").iterdir()):
            with contextlib.suppress(ParseError):
                parse(path.read_bytes())
        elapsed = time.monotonic() - started
        self.stdout.write(f"parsing alone: {count / elapsed:.0f} messages/s")
        mailbox = mailbox_for("benchmark", maildir)
        tickets_before = Ticket.objects.filter(queue=mailbox.queue).count()
        taken = ingest_all(mailbox)
        self.stdout.write(
            f"database: {connection.vendor}; ingested {taken.mails} in {taken.seconds:.1f} s "
            f"= {taken.per_second:.0f} messages/s (one process); "
            + ", ".join(f"{n} {outcome}" for outcome, n in sorted(taken.outcomes.items()))
        )
        requests = Ticket.objects.filter(queue=mailbox.queue).count() - tickets_before
        self.stdout.write(f"new requests: {requests}")
        self.stdout.write(f"peak RSS so far: {_peak_rss_mb():.0f} MB")

        bigdir = _maildir(root / "big")
        raw = generator.big(big_mb)
        (bigdir / "new" / "big.bench").write_bytes(raw)
        size = len(raw)
        del raw
        big = mailbox_for("benchmark-big", bigdir)
        tracemalloc.start()
        started = time.monotonic()
        result = fetch.poll_mailbox(big.pk)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(
            f"{big_mb} MB attachment ({size / 2**20:.1f} MB as mail): {dict(result)} in "
            f"{elapsed:.1f} s; peak Python memory {peak / 2**20:.0f} MB "
            f"= {peak / (big_mb * 2**20):.1f}x the attachment; peak RSS {_peak_rss_mb():.0f} MB"
        )
