"""Time the agents' main pages against whatever data the database holds.

Prints, per page, the median and 95th-percentile server time (the request handled
in-process by Django's test client: view, queries and template rendering, no network)
and the number of SQL queries. Fill the database first with seed_demo and seed_bulk.
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets import workflow
from tickets.models import Contact, Message, Priority, Queue, Ticket

BENCH_AGENT = "bench-agent"


class Command(BaseCommand):
    help = "Median and p95 server time and query count of the desk's main pages."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--warmup", type=int, default=3)

    def handle(self, *args, runs, warmup, **options):
        if not Ticket.objects.exists():
            raise CommandError("No requests: run seed_demo and seed_bulk first.")
        agent = self.bench_agent()
        pages = {
            "default list": "/desk/requests/",
            "filtered + sorted list": (
                f"/desk/requests/?open=1&priority={Priority.objects.order_by('-rank')[0].pk}"
                "&sort=-deadline"
            ),
            "request page, 50 messages": f"/desk/requests/{self.long_request(agent).number}/",
            "dashboard": "/desk/dashboard/",
        }
        client = Client()
        client.force_login(agent)
        total = Ticket.objects.count()
        self.stdout.write(
            f"{total:,} requests, {Message.objects.count():,} messages; "
            f"{runs} runs per page after {warmup} warm-up runs ({connection.vendor})\n"
        )
        self.stdout.write("| page | median ms | p95 ms | queries |\n|---|---:|---:|---:|")
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            for name, url in pages.items():
                median, p95, queries = measure(client, url, runs=runs, warmup=warmup)
                self.stdout.write(f"| {name} | {median:.1f} | {p95:.1f} | {queries} |")

    def bench_agent(self):
        """An agent (not staff) who works every queue, like a busy team lead."""
        agent, _ = get_user_model().objects.get_or_create(
            username=BENCH_AGENT, defaults={"first_name": "Bench", "last_name": "Agent"}
        )
        for queue in Queue.objects.all():
            queue.members.add(agent)
        return agent

    def long_request(self, agent) -> Ticket:
        """A request with 50 messages, made once and reused."""
        found = (
            Ticket.objects.filter(subject="Benchmark: a long conversation").order_by("pk").first()
        )
        if found:
            return found
        queue = Queue.objects.order_by("pk").first()
        ticket = workflow.create_ticket(
            queue=queue,
            subject="Benchmark: a long conversation",
            contact=Contact.objects.order_by("pk").first(),
            by=None,
            body="The first message.",
        )
        for n in range(49):
            if n % 3 == 2:
                workflow.add_note(ticket, text=f"Internal note {n}", by=agent)
            else:
                workflow.add_message(
                    ticket,
                    by=agent if n % 3 else None,
                    contact=None if n % 3 else ticket.contact,
                    kind=Message.Kind.EMAIL,
                    direction=Message.Direction.OUTBOUND if n % 3 else Message.Direction.INBOUND,
                    body_text=f"Message {n}: " + "Some words about the problem. " * 20,
                    now=timezone.now(),
                )
        return ticket


def measure(client: Client, url: str, *, runs: int, warmup: int) -> tuple[float, float, int]:
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, queries
