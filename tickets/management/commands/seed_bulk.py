"""Fill the database with many realistic requests, fast, for benchmarks.

Rows are written with bulk_create in large batches rather than through the workflow (which
would take hours for a million requests); each request is left exactly as the workflow
would leave it: numbered from its queue's counter, in a stage that matches its status,
with its first message, a reply or two, and its history events.
"""

import random
import time
from collections import defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tickets.models import (
    Category,
    Channel,
    Company,
    Contact,
    Event,
    Level,
    Message,
    Priority,
    Queue,
    Stage,
    Status,
    Tag,
    Ticket,
)
from tickets.numbering import counter_key, next_numbers

PRODUCTS = [
    "laptop",
    "printer",
    "VPN",
    "invoice",
    "mailbox",
    "router",
    "monitor",
    "licence",
    "phone",
    "docking station",
    "password",
    "shared drive",
    "calendar",
    "scanner",
]
PROBLEMS = [
    "does not start",
    "is very slow",
    "shows an error",
    "was charged twice",
    "cannot be reached",
    "keeps disconnecting",
    "needs replacing",
    "is missing",
    "stopped syncing",
    "is locked",
    "prints blank pages",
    "was never delivered",
]
SENTENCES = [
    "Since this morning the {p} {q}.",
    "We tried restarting it twice without any luck.",
    "Could you please have a look as soon as possible?",
    "This blocks three people here.",
    "The error message says access denied.",
    "It worked fine until the update last week.",
    "Our order number is in the attachment.",
    "Please call me back when you have news.",
    "I have attached a screenshot of the problem.",
    "Thanks for the quick answer earlier.",
]
REPLIES = [
    "Thank you for reaching out. We are looking into the {p} now.",
    "Could you send us the exact error message and when it started?",
    "We have replaced the {p}; please check whether it works again.",
    "The refund has been issued and should reach you within five days.",
]
# Share of requests per built-in status: most requests in a large helpdesk are closed.
STATUS_WEIGHTS = {"closed": 70, "active": 20, "postponed": 6, "deleted": 3, "merged": 1}


class Command(BaseCommand):
    help = "Bulk-load N realistic requests with M messages each (benchmarks; run seed_demo first)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=10_000)
        parser.add_argument("--messages-per-request", type=int, default=5)
        parser.add_argument("--batch", type=int, default=5_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, requests, messages_per_request, batch, seed, **options):
        if requests < 1 or messages_per_request < 1:
            raise CommandError("--requests and --messages-per-request must be at least 1.")
        loader = BulkLoader(rng=random.Random(seed), messages_per_request=messages_per_request)
        started = time.perf_counter()
        loader.add_contacts(max(requests // 20, 10))
        done = 0
        while done < requests:
            count = min(batch, requests - done)
            loader.add_requests(count)
            done += count
            self.stdout.write(f"  {done:,} requests …", ending="\r")
            self.stdout.flush()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"seeded {done:,} requests and {loader.messages:,} messages in {seconds:.1f} s "
            f"({done / seconds:,.0f} requests/s)"
        )


class BulkLoader:
    def __init__(self, *, rng: random.Random, messages_per_request: int):
        self.rng = rng
        self.per_request = messages_per_request
        self.now = timezone.now()
        self.messages = 0
        self.queues = list(Queue.objects.prefetch_related("stages"))
        if not self.queues or not Priority.objects.exists():
            raise CommandError("No queues or priorities yet: run `manage.py seed_demo` first.")
        self.stages = {q.pk: list(q.stages.all()) for q in self.queues}
        self.statuses = {s.base: s for s in Status.objects.filter(is_builtin=True)}
        for base in Status.Base.values:
            self.statuses.setdefault(base, Status.builtin(base))
        self.priorities = list(Priority.objects.all())
        categories = list(Category.objects.all())
        self.categories = {
            q.pk: [c for c in categories if q.accepts_category(c)] + [None] for q in self.queues
        }
        self.tags = list(Tag.objects.all())
        self.agents = list(get_user_model().objects.filter(contact__isnull=True, is_active=True))
        self.contacts: list[Contact] = list(Contact.objects.all())
        self.bases = list(STATUS_WEIGHTS)
        self.weights = list(STATUS_WEIGHTS.values())
        # Requests merged in a batch point at active ones loaded before it.
        self.survivors = list(
            Ticket.objects.filter(base_status=Status.Base.ACTIVE).values_list("pk", flat=True)[
                :1000
            ]
        )

    @transaction.atomic
    def add_contacts(self, count: int) -> None:
        run = f"{self.rng.getrandbits(32):08x}"  # keeps emails unique across runs
        companies = Company.objects.bulk_create(
            Company(name=f"Customer {run}-{n}", domain=f"c{run}{n}.example")
            for n in range(max(count // 10, 1))
        )
        self.contacts += Contact.objects.bulk_create(
            Contact(
                name=f"Contact {n}",
                email=f"contact{n}@{company.domain}",
                phone=f"+1 555 {n:07d}",
                company=company if n % 7 else None,
            )
            for n in range(count)
            for company in [companies[n % len(companies)]]
        )

    @transaction.atomic
    def add_requests(self, count: int) -> None:
        rng = self.rng
        tickets = [self.new_ticket() for _ in range(count)]
        self.number(tickets)
        Ticket.objects.bulk_create(tickets, batch_size=2_000)
        if len(self.survivors) < 1000:
            self.survivors += [t.pk for t in tickets if t.base_status == Status.Base.ACTIVE]
        messages, events = [], []
        for ticket in tickets:
            messages += self.conversation(ticket)
            events += self.history(ticket)
        Message.objects.bulk_create(messages, batch_size=5_000)
        Event.objects.bulk_create(events, batch_size=5_000)
        if self.tags:
            Through = Ticket.tags.through
            Through.objects.bulk_create(
                (
                    Through(ticket_id=t.pk, tag_id=tag.pk)
                    for t in tickets
                    for tag in rng.sample(self.tags, k=rng.choice([0, 0, 1, 2]))
                ),
                batch_size=5_000,
            )
        self.messages += len(messages)

    def new_ticket(self) -> Ticket:
        rng = self.rng
        queue = rng.choice(self.queues)
        stages = self.stages[queue.pk]
        base = rng.choices(self.bases, self.weights)[0]
        if base == Status.Base.MERGED and not self.survivors:
            base = Status.Base.CLOSED
        created = self.now - timedelta(minutes=rng.randint(5, 2 * 365 * 24 * 60))
        updated = min(self.now, created + timedelta(minutes=rng.randint(1, 20 * 24 * 60)))
        closed = base in (Status.Base.CLOSED, Status.Base.MERGED)
        stage = stages[-1] if closed else rng.choice(stages[:-1])
        channel = rng.choice(
            [Channel.EMAIL] * 5 + [Channel.PHONE] * 2 + [Channel.PORTAL] * 2 + [Channel.INTERNAL]
        )
        category = rng.choice(self.categories[queue.pk])
        subject = f"{rng.choice(PRODUCTS).capitalize()} {rng.choice(PROBLEMS)}"
        priority = rng.choice(self.priorities)
        return Ticket(
            subject=subject,
            contact=None if channel == Channel.INTERNAL else rng.choice(self.contacts),
            queue=queue,
            stage=stage,
            status=self.statuses[base],
            base_status=base,
            category=category,
            priority=priority,
            impact=rng.choice(Level.values),
            urgency=rng.choice(Level.values),
            owner=rng.choice(self.agents + [None]) if self.agents else None,
            channel=channel,
            created_at=created,
            updated_at=updated,
            closed_at=updated if closed else None,
            resolved=rng.random() < 0.85 if closed else None,
            replied_at=created + timedelta(minutes=rng.randint(3, 600)),
            deadline=created + timedelta(hours=rng.choice([4, 8, 24, 72])),
            alert_at=(created + timedelta(hours=1)) if stage.state == Stage.State.NEW else None,
            is_unread=rng.random() < 0.1,
            merged_into_id=rng.choice(self.survivors) if base == Status.Base.MERGED else None,
            postponed_until=(self.now + timedelta(days=rng.randint(1, 14)))
            if base == Status.Base.POSTPONED
            else None,
        )

    def number(self, tickets: list[Ticket]) -> None:
        """Numbers from each queue's own counter, so later requests continue the sequence."""
        groups = defaultdict(list)
        for ticket in sorted(tickets, key=lambda t: t.created_at):
            scheme = ticket.queue.numbering_scheme
            groups[(scheme, counter_key(scheme, ticket.created_at))].append(ticket)
        for (scheme, _), group in groups.items():
            numbers = next_numbers(scheme, group[0].created_at, len(group))
            for ticket, number in zip(group, numbers, strict=True):
                ticket.number = number

    def text(self, sentences: int) -> str:
        product, problem = self.rng.choice(PRODUCTS), self.rng.choice(PROBLEMS)
        chosen = self.rng.sample(SENTENCES, k=min(sentences, len(SENTENCES)))
        return " ".join(s.format(p=product, q=problem) for s in chosen)

    def conversation(self, ticket: Ticket) -> list[Message]:
        rng = self.rng
        span = max((ticket.updated_at - ticket.created_at).total_seconds(), 60)
        messages = []
        for n in range(self.per_request):
            from_customer = n % 2 == 0 and ticket.contact_id is not None
            at = ticket.created_at + timedelta(seconds=span * n / self.per_request)
            messages.append(
                Message(
                    ticket_id=ticket.pk,
                    kind=Message.Kind.EMAIL if from_customer or n else Message.Kind.NOTE,
                    direction=Message.Direction.INBOUND
                    if from_customer
                    else Message.Direction.OUTBOUND,
                    is_public=from_customer or n > 0,
                    author_contact_id=ticket.contact_id if from_customer else None,
                    author_id=None if from_customer else ticket.owner_id,
                    subject=ticket.subject,
                    body_text=self.text(rng.randint(2, 5))
                    if from_customer
                    else rng.choice(REPLIES).format(p=rng.choice(PRODUCTS)),
                    message_id=f"<bulk-{ticket.pk}-{n}@helpdesk.bulk>",
                    created_at=at,
                )
            )
        return messages

    def history(self, ticket: Ticket) -> list[Event]:
        events = [
            Event(
                ticket_id=ticket.pk, at=ticket.created_at, action="created", new_value=ticket.number
            )
        ]
        if ticket.base_status != Status.Base.ACTIVE:
            events.append(
                Event(
                    ticket_id=ticket.pk,
                    actor_id=ticket.owner_id,
                    at=ticket.updated_at,
                    action="status_changed",
                    field="status",
                    old_value="Active",
                    new_value=ticket.status.name,
                )
            )
        return events
