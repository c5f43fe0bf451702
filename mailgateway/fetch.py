"""Fetching mail from IMAP, POP3 and local Maildirs, and the polling that runs it.

The order of things is what makes a crash harmless: a mail is fetched, taken in (its
transaction commits), and only then flagged, deleted or moved on the server. A crash
before the commit leaves the mail on the server untouched; a crash after it makes the
next poll fetch it again, and ingestion's unique key turns that into a duplicate that is
simply flagged this time.

One mailbox is never polled by two workers at once: a poll first claims the mailbox with a
conditional UPDATE of `locked_until`, which only one worker can win; a crashed worker's
claim runs out by itself.
"""

import contextlib
import imaplib
import logging
import os
import poplib
import re
import ssl
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mailgateway import ingest
from mailgateway.models import Mailbox, SeenUid

log = logging.getLogger(__name__)

BATCH = 100  # mails per poll; a longer backlog is taken on the next tick
LOCK_TIME = timedelta(minutes=10)  # a poll of BATCH mails ends well within it
DUE_LIMIT = 50  # mailboxes started per tick
TIMEOUT = 60  # seconds for a server to answer


@dataclass
class Fetched:
    ref: object  # whatever the source needs to find the mail again: a UID, a path
    raw: bytes


class MailSource(ABC):
    """Fetch pending mail; `done(ref)` tells the server once the mail is committed."""

    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox
        self.more = False  # more pending than this poll takes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @abstractmethod
    def fetch(self, limit: int) -> Iterator[Fetched]:
        """Up to `limit` mails not yet committed, oldest first."""

    @abstractmethod
    def done(self, ref) -> None:
        """The mail is committed: flag, delete or move it on the server."""

    def close(self) -> None:  # noqa: B027 (a source with no connection has nothing to close)
        return None


class ImapSource(MailSource):
    """Unseen mail by UID; flagged \\Seen (or deleted) after commit. UIDVALIDITY is
    tracked: UIDs up to `last_uid` of the same validity are known to be committed, so a
    mail left unflagged by a crash is flagged without being fetched again."""

    def __init__(self, mailbox: Mailbox):
        super().__init__(mailbox)
        security = mailbox.security
        if security == Mailbox.Security.TLS:
            self.conn = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port or 993,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT,
            )
        else:
            self.conn = imaplib.IMAP4(mailbox.host, mailbox.port or 143, timeout=TIMEOUT)
            if security == Mailbox.Security.STARTTLS:
                self.conn.starttls(ssl.create_default_context())
        self.conn.login(mailbox.username, mailbox.password)
        typ, data = self.conn.select(_quote(mailbox.folder or "INBOX"))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {mailbox.folder}: {data}")
        validity = int(self.conn.response("UIDVALIDITY")[1][0])
        if validity != mailbox.uid_validity:
            if mailbox.uid_validity is not None:
                log.warning("%s: UIDVALIDITY changed, UIDs start over", mailbox)
            mailbox.uid_validity, mailbox.last_uid = validity, 0
            Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=validity, last_uid=0)

    def fetch(self, limit):
        typ, data = self.conn.uid("SEARCH", "UNSEEN", "UNDELETED")
        uids = sorted(int(u) for u in (data[0] or b"").split())
        for uid in [u for u in uids if u <= self.mailbox.last_uid]:
            self._mark(uid)  # committed before a crash kept it from being flagged
        pending = [u for u in uids if u > self.mailbox.last_uid]
        self.more = len(pending) > limit
        for uid in pending[:limit]:
            typ, data = self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if typ != "OK" or raw is None:
                continue  # gone meanwhile (another client expunged it)
            yield Fetched(uid, raw)

    def done(self, ref):
        self.mailbox.last_uid = max(self.mailbox.last_uid, ref)
        Mailbox.objects.filter(pk=self.mailbox.pk).update(last_uid=self.mailbox.last_uid)
        self._mark(ref)

    def _mark(self, uid: int) -> None:
        flag = "(\\Deleted)" if self.mailbox.delete_after_fetch else "(\\Seen)"
        self.conn.uid("STORE", str(uid), "+FLAGS", flag)

    def close(self):
        try:
            if self.mailbox.delete_after_fetch:
                self.conn.expunge()
            self.conn.close()
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


class Pop3Source(MailSource):
    """POP3 has no flags: what was taken in is remembered by its UIDL. Deletions happen
    at QUIT, after every mail of the poll was committed; a crash before QUIT leaves the
    mail on the server, and its remembered UIDL deletes it next time."""

    def __init__(self, mailbox: Mailbox):
        super().__init__(mailbox)
        if mailbox.security == Mailbox.Security.TLS:
            self.conn = poplib.POP3_SSL(
                mailbox.host,
                mailbox.port or 995,
                context=ssl.create_default_context(),
                timeout=TIMEOUT,
            )
        else:
            self.conn = poplib.POP3(mailbox.host, mailbox.port or 110, timeout=TIMEOUT)
            if mailbox.security == Mailbox.Security.STARTTLS:
                self.conn.stls(ssl.create_default_context())
        self.conn.user(mailbox.username)
        self.conn.pass_(mailbox.password)
        self.quit = True

    def fetch(self, limit):
        listing = {}
        for line in self.conn.uidl()[1]:
            number, uid = line.decode("ascii", "replace").split(None, 1)
            listing[uid.strip()] = int(number)
        seen = set(SeenUid.objects.filter(mailbox=self.mailbox).values_list("uid", flat=True))
        stale = seen - set(listing)
        if stale:  # gone from the server: nothing to remember them for
            SeenUid.objects.filter(mailbox=self.mailbox, uid__in=stale).delete()
        if self.mailbox.delete_after_fetch:
            for uid in seen & set(listing):
                self.conn.dele(listing[uid])
        pending = [(n, uid) for uid, n in sorted(listing.items(), key=lambda i: i[1])]
        pending = [(n, uid) for n, uid in pending if uid not in seen]
        self.more = len(pending) > limit
        for number, uid in pending[:limit]:
            lines = self.conn.retr(number)[1]
            yield Fetched((number, uid), b"\r\n".join(lines) + b"\r\n")

    def done(self, ref):
        number, uid = ref
        SeenUid.objects.get_or_create(
            mailbox=self.mailbox, uid=uid[:100], defaults={"seen_at": timezone.now()}
        )
        if self.mailbox.delete_after_fetch:
            self.conn.dele(number)

    def close(self):
        with contextlib.suppress(poplib.error_proto, OSError):
            self.conn.quit()


class MaildirSource(MailSource):
    """A local Maildir: mail in new/ is taken in, then moved to cur/ (or deleted)."""

    def __init__(self, mailbox: Mailbox):
        super().__init__(mailbox)
        self.root = Path(mailbox.folder)
        if not (self.root / "new").is_dir():
            raise FileNotFoundError(f"{self.root} is not a Maildir (it has no new/ folder)")
        (self.root / "cur").mkdir(exist_ok=True)

    def fetch(self, limit):
        names = sorted(n for n in os.listdir(self.root / "new") if not n.startswith("."))
        self.more = len(names) > limit
        for name in names[:limit]:
            path = self.root / "new" / name
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # another reader moved it meanwhile
            yield Fetched(path, raw)

    def done(self, ref: Path):
        if self.mailbox.delete_after_fetch:
            ref.unlink(missing_ok=True)
            return
        name = ref.name if ":2," in ref.name else f"{ref.name}:2,S"
        with contextlib.suppress(FileNotFoundError):  # another reader moved it meanwhile
            os.replace(ref, self.root / "cur" / name)


SOURCES = {
    Mailbox.Protocol.IMAP: ImapSource,
    Mailbox.Protocol.POP3: Pop3Source,
    Mailbox.Protocol.MAILDIR: MaildirSource,
}


def _quote(folder: str) -> str:
    return folder if re.fullmatch(r"[\w./-]+", folder) else '"' + folder.replace('"', '\\"') + '"'


def open_source(mailbox: Mailbox) -> MailSource:
    return SOURCES[mailbox.protocol](mailbox)


def poll_mailbox(
    mailbox_pk: int, *, now: datetime | None = None, limit: int = BATCH
) -> Counter | None:
    """Poll one mailbox: at most `limit` mails, each taken in and then marked on the
    server. Returns the outcomes counted, or None when another worker is polling it."""
    now = now or timezone.now()
    claimed = (
        Mailbox.objects.filter(pk=mailbox_pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(locked_until=now + LOCK_TIME)
    )
    if not claimed:
        return None  # another worker got there first
    mailbox = Mailbox.objects.select_related("queue").get(pk=mailbox_pk)
    counts: Counter = Counter()
    more, error = False, ""
    try:
        route = ingest.Route.build(mailbox=mailbox)
        with open_source(mailbox) as source:
            for fetched in source.fetch(limit):
                result = ingest.ingest(fetched.raw, route=route)
                source.done(fetched.ref)
                counts[result.outcome] += 1
            more = source.more
    except Exception as failure:
        error = f"{type(failure).__name__}: {failure}"
        raise
    finally:
        Mailbox.objects.filter(pk=mailbox_pk).update(
            locked_until=None,
            last_polled_at=now,
            next_poll_at=now if more else now + timedelta(seconds=mailbox.poll_interval),
            last_error=error,
        )
    return counts


def start_due_polls(*, now: datetime | None = None) -> int:
    """Enqueue a poll for each active mailbox whose time has come. Moving its next poll
    time forward is a conditional UPDATE, so two ticks at once enqueue each poll once."""
    from mailgateway.tasks import poll_mailbox as poll_task

    now = now or timezone.now()
    due = (
        Mailbox.objects.filter(is_active=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .values_list("pk", "next_poll_at", "poll_interval")[:DUE_LIMIT]
    )
    started = 0
    for pk, next_poll_at, interval in due:
        won = Mailbox.objects.filter(pk=pk, next_poll_at=next_poll_at).update(
            next_poll_at=now + timedelta(seconds=interval)
        )
        if won:
            transaction.on_commit(lambda pk=pk: poll_task.delay(pk))
            started += 1
    return started
