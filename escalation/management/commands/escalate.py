from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from escalation import engine


class Command(BaseCommand):
    help = (
        "Run the clocks once: escalate, alert, flag passed deadlines and wake postponed "
        "requests that are due. Prints the counts as its last line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="Act as if it were this ISO time (e.g. 2026-03-02T09:30+01:00); "
            "a time without an offset is in the server's time zone.",
        )

    def handle(self, *args, now=None, **options):
        result = engine.sweep(now=parse_now(now) if now else None)
        self.stdout.write(str(result))


def parse_now(value: str) -> datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"--now {value!r} is not an ISO time such as 2026-03-02T09:30+01:00.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed
