"""Benchmark the automation rules: N active rules judged on one request's update.

The rules are written like an admin's: two or three conditions each over the request's
queue, category subtree, tags, priority changes, subject and custom fields, none of them
holding (the cost every update pays), then with `--matching` of them holding and adding
a tag (what a rule that acts costs on top). What is timed is the subscriber's whole work
for one UPDATED event, queries included: loading the rules and the request, judging,
acting and logging. Everything is written in one transaction and rolled back, so any
database will do:

    python manage.py bench_rules                 # SQLite, the embedded default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_dev python manage.py bench_rules
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from automations import engine
from automations.models import Action, Condition, Rule, Trigger
from tickets import workflow
from tickets.models import Category, CustomField, DomainEvent, Priority, Queue, Tag, Ticket

TARGET_MS = 20
F, Op = Condition.Field, Condition.Operator


class Rollback(Exception):
    """Leaves the database as it was."""


class Command(BaseCommand):
    help = "p50/p95 of N active rules judged (and some acting) on one request's update."

    def add_arguments(self, parser):
        parser.add_argument("--rules", type=int, default=100)
        parser.add_argument("--matching", type=int, default=5)
        parser.add_argument("--runs", type=int, default=200)
        parser.add_argument("--warmup", type=int, default=20)

    def handle(self, *args, rules, matching, runs, warmup, **options):
        try:
            with transaction.atomic():
                world = World.build(rules)
                self.report("none match", world, runs=runs, warmup=warmup)
                world.make_match(matching)
                self.report(f"{matching} match and act", world, runs=runs, warmup=warmup)
                raise Rollback
        except Rollback:
            pass

    def report(self, label, world, *, runs, warmup):
        for _ in range(warmup):
            engine.answer_event(world.event)
        timings = []
        with CaptureQueriesContext(connection) as queries:
            for _ in range(runs):
                started = time.perf_counter()
                done = engine.answer_event(world.event)
                timings.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        met = "met" if p95 <= TARGET_MS else "NOT met"
        self.stdout.write(
            f"{world.rules} active rules on an update, {label} ({len(done)} ran): "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {len(queries) / runs:.0f} queries "
            f"[{connection.vendor}; target p95 ≤ {TARGET_MS} ms: {met}]"
        )


class World:
    def __init__(self, rules: int, ticket: Ticket, event: DomainEvent, hit: Tag):
        self.rules, self.ticket, self.event, self.hit = rules, ticket, event, hit

    @classmethod
    def build(cls, count: int) -> "World":
        agent, _ = get_user_model().objects.get_or_create(username="bench-rules")
        priority = Priority.objects.create(name="bench-rules", rank=99)
        queue = Queue.objects.create(
            name="bench-rules", numbering_scheme="BR-{seq:05}", default_priority=priority
        )
        queue.add_system_stages()
        queue.members.add(agent)
        root = Category.objects.create(name="bench-rules")
        other = Category.objects.create(name="bench-rules other")
        plan = CustomField.objects.create(name="bench plan", key="bench_plan")
        hit = Tag.objects.create(name="bench-hit")  # what the acting rules add
        never = Tag.objects.create(name="bench-never")
        ticket = workflow.create_ticket(
            queue=queue,
            subject="Printer jams on floor 3",
            by=agent,
            body="Paper stuck.",
            channel="internal",
        )
        workflow.update_ticket(
            ticket, category=root, custom_fields={"bench_plan": "Gold"}, by=agent
        )
        workflow.set_tags(ticket, tags=["bench-a"], by=agent)
        other_queue = Queue.objects.create(
            name="bench-rules other", numbering_scheme="BO-{seq:05}", default_priority=priority
        )
        misses = [
            dict(field=F.QUEUE, operator=Op.IS, queue=other_queue),
            dict(field=F.CATEGORY, operator=Op.IS, category=other),
            dict(field=F.TAGS, operator=Op.CONTAINS, tag=never),
            dict(field=F.SUBJECT, operator=Op.CONTAINS, value="refund"),
            dict(field=F.CUSTOM_FIELD, operator=Op.IS, custom_field=plan, value="Silver"),
            dict(field=F.PRIORITY, operator=Op.CHANGED_TO, priority=priority),
        ]
        holds = [
            dict(field=F.QUEUE, operator=Op.IS, queue=queue),
            dict(field=F.SUBJECT, operator=Op.CONTAINS, value="printer"),
        ]
        for n in range(count):
            rule = Rule.objects.create(
                name=f"bench rule {n}", trigger=Trigger.UPDATED, is_active=True, order=n
            )
            # Conditions that hold first, so judging goes on to the one that does not.
            for condition in [holds[n % 2], misses[n % len(misses)]]:
                Condition.objects.create(rule=rule, **condition)
            Action.objects.create(rule=rule, kind=Action.Kind.ADD_TAG, tag=hit)
        workflow.update_ticket(ticket, subject="Printer jams on floor 3, again", by=agent)
        event = DomainEvent(
            name="updated",
            ticket=ticket,
            at=ticket.updated_at,
            payload={"fields": ["subject"], "changes": {"subject": ["a", "b"]}},
        )
        event.save()
        return cls(count, ticket, event, hit)

    def make_match(self, count: int) -> None:
        """`count` rules keep only the condition that holds, so they add the tag."""
        chosen = list(Rule.objects.filter(name__startswith="bench rule").order_by("order")[:count])
        holding = Q(field=F.QUEUE, queue=self.ticket.queue) | Q(field=F.SUBJECT, value="printer")
        Condition.objects.filter(rule__in=chosen).exclude(holding).delete()
