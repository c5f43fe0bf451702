from django.core.management.base import BaseCommand, CommandError

from mailgateway import fetch
from mailgateway.models import Mailbox


class Command(BaseCommand):
    help = "Poll mailboxes now: every active one, or the one named."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", help="The mailbox's name (polled even if inactive).")

    def handle(self, *args, mailbox=None, **options):
        if mailbox:
            mailboxes = list(Mailbox.objects.filter(name=mailbox))
            if not mailboxes:
                raise CommandError(f"There is no mailbox named {mailbox!r}.")
        else:
            mailboxes = list(Mailbox.objects.filter(is_active=True))
        failed = False
        for box in mailboxes:
            try:
                counts = fetch.poll_mailbox(box.pk)
            except Exception as error:
                failed = True
                self.stderr.write(f"{box}: {type(error).__name__}: {error}")
                continue
            if counts is None:
                self.stdout.write(f"{box}: being polled by another worker; skipped")
                continue
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            self.stdout.write(f"{box}: {summary or 'no new mail'}")
        if failed:
            raise CommandError("Some mailboxes could not be polled (see above).")
