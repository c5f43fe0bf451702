"""Fill the database with many realistic requests, fast, for benchmarks.

The rows are made by benchmark.bulk the way the workflow would have left them, and written
with COPY on PostgreSQL (bulk_create elsewhere); see that module.
"""

import random
import time

from django.core.management.base import BaseCommand, CommandError

from benchmark.bulk import BulkLoader, sample_search_words
from tickets.models import Attachment, Company, Contact, Event, Message, Ticket

ROWS = [
    (Company, "companies"),
    (Contact, "contacts"),
    (Ticket, "requests"),
    (Ticket.tags.through, "tags on requests"),
    (Message, "messages"),
    (Attachment, "attachments"),
    (Event, "events"),
]
LATEST = 10_000  # messages the common word's share is counted in


class Command(BaseCommand):
    help = (
        "Bulk-load N realistic requests with M messages each, with their contacts and "
        "companies (one contact per 20 requests, one company per 10 contacts), tags, "
        "attachments and history, then print a common word and a rare token of the "
        "messages for search benchmarks. Run seed_demo first. Attachments are rows only: "
        "no file is written to the media storage. On PostgreSQL the rows go in with COPY "
        "in one transaction that keeps other writers out of the loaded tables until it "
        "commits; a load at least as large as what is there keeps readers out too, of "
        "those tables and of the ones they point at (users, queues...): the site waits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=10_000)
        parser.add_argument("--messages-per-request", type=int, default=5)
        parser.add_argument("--batch", type=int, default=5_000, help="Requests per batch.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the random data.")

    def handle(self, *args, requests, messages_per_request, batch, seed, **options):
        for option, value in (
            ("--requests", requests),
            ("--messages-per-request", messages_per_request),
            ("--batch", batch),
        ):
            if value < 1:
                raise CommandError(f"{option} must be at least 1 (got {value}).")
        loader = BulkLoader(
            # Repeatable test data.
            rng=random.Random(seed),  # nosec B311
            messages_per_request=messages_per_request,
        )
        started = time.perf_counter()
        loader.load(requests, batch=batch, progress=self.progress)
        loading = time.perf_counter() - started
        loader.finish()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"\nseeded {requests:,} requests and {loader.messages:,} messages in "
            f"{seconds:.1f} s ({requests / seconds:,.0f} requests/s, "
            f"{loader.messages / seconds:,.0f} messages/s; loading {loading:.1f} s, "
            f"finishing {seconds - loading:.1f} s)"
        )
        counted = (f"{loader.counted[model]:,} {name}" for model, name in ROWS)
        self.stdout.write("rows: " + ", ".join(counted))
        self.report_search_words()

    def progress(self, done: int) -> None:
        self.stdout.write(f"  {done:,} requests …", ending="\r")
        self.stdout.flush()

    def report_search_words(self) -> None:
        """Words a search benchmark can look for, read back from the database."""
        common, rare = sample_search_words()
        if common is None:
            self.stdout.write("search words: no common word found")
        else:
            latest = list(Message.objects.order_by("-pk").values_list("pk", flat=True)[:LATEST])
            found = Message.objects.filter(pk__gte=latest[-1], body_text__icontains=common)
            self.stdout.write(
                f"search words: common {common!r} is in {found.count():,} of the latest "
                f"{len(latest):,} messages"
            )
        if rare is None:
            self.stdout.write("search words: no rare token found")
        else:
            found = Message.objects.filter(body_text__contains=rare).count()
            messages = "message" if found == 1 else "messages"
            self.stdout.write(f"search words: rare {rare!r} is in {found:,} {messages}")
