import sys
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mailgateway import ingest
from mailgateway.models import Mailbox
from tickets.models import Queue

DEFAULT_QUEUE = "Support"  # the queue seed_demo creates
SUFFIXES = {".eml", ".box"}


def mail_files(paths: list[str]):
    """The files named, and in folders the .eml/.box files (or a Maildir's mail)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            if (path / "new").is_dir() and (path / "cur").is_dir():
                for sub in ("new", "cur"):
                    yield from sorted(p for p in (path / sub).iterdir() if p.is_file())
            else:
                yield from sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                )
        else:
            yield path


class Command(BaseCommand):
    help = (
        "Take in .eml files (or folders of them) as if they came from a mailbox. Prints, "
        "last, `ingested N: N new, N appended, N duplicate, N quarantined`."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--mailbox", help="Take the mail in under this mailbox's rules.")
        target.add_argument("--queue", help=f"New requests go to this queue ({DEFAULT_QUEUE}).")

    def handle(self, *args, paths, mailbox=None, queue=None, **options):
        route = ingest.Route.build(**self._target(mailbox, queue))
        counts: Counter = Counter()
        read = 0
        for path in mail_files(paths):
            try:
                raw = path.read_bytes()
            except OSError as error:
                self.stderr.write(f"{path}: cannot read: {error}")
                continue
            read += 1
            result = ingest.ingest(raw, route=route)
            counts[result.outcome] += 1
            if result.outcome == ingest.QUARANTINED:
                self.stderr.write(f"{path}: quarantined: {result.error}")
            elif options["verbosity"] > 1:
                number = result.ticket.number if result.ticket else ""
                self.stdout.write(f"{path}: {result.outcome} {number}")
        sys.stdout.flush()
        self.stdout.write(
            f"ingested {read}: {counts[ingest.NEW]} new, {counts[ingest.APPENDED]} appended, "
            f"{counts[ingest.DUPLICATE]} duplicate, {counts[ingest.QUARANTINED]} quarantined"
        )

    def _target(self, mailbox: str | None, queue: str | None) -> dict:
        if mailbox:
            found = Mailbox.objects.select_related("queue").filter(name=mailbox).first()
            if found is None:
                raise CommandError(f"There is no mailbox named {mailbox!r}.")
            return {"mailbox": found}
        name = queue or DEFAULT_QUEUE
        found = Queue.objects.filter(name=name).first()
        if found is None:
            raise CommandError(
                f"There is no queue named {name!r}"
                + (" (run `manage.py seed_demo`, or name one with --queue)." if not queue else ".")
            )
        return {"queue": found}
