"""Fast loading of many realistic requests, for benchmarks (manage.py seed_bulk).

Rows are made here, in Python, the way tickets.workflow would have left them (numbered
from their queue's counter, in a stage that matches their status, with clocks, time
counters, conversation and history), and written by a writer: on PostgreSQL with COPY,
elsewhere (SQLite) with bulk_create. The rows are the same; only the writing differs.

Primary keys of the tables whose rows others point at (companies, contacts, requests,
messages) come from a block reserved on the table's own sequence, so rows made through
the ORM afterwards continue after them. The whole load is one transaction: a failed
load leaves nothing behind, not even the triggers it disabled.
"""

import random
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from operator import itemgetter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from benchmark.bulk_vocabulary import (
    ATTACHMENTS,
    COMMON_WORDS,
    COMPANY_FORMS,
    COMPANY_NAMES,
    COMPANY_TRADES,
    CUSTOMER_CLOSINGS,
    FIRST_NAMES,
    LAST_NAMES,
    RareTokens,
    TextPools,
    Weighted,
    slug,
)
from tickets import clocks, workflow
from tickets.models import (
    Attachment,
    BusinessCalendar,
    Category,
    Channel,
    Company,
    Contact,
    EscalationLevel,
    Event,
    Level,
    Message,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    Stage,
    Status,
    Tag,
    Ticket,
    TimeCounter,
)
from tickets.numbering import counter_key, next_numbers
from tickets.search import rebuild_search_documents
from tickets.workflow import AGENT_CHANNELS, FIRST_MESSAGE_KIND

TicketTag = Ticket.tags.through
# Parents before children: the order rows are written in.
LOADED_MODELS = [Company, Contact, Ticket, TicketTag, Message, Attachment, Event]

HISTORY = timedelta(days=2 * 365)  # requests were created over the last two years
RECENT = timedelta(days=90)
# Share of requests per built-in status, for requests created in the last 90 days and
# for older ones: about half of the recent ones are still open, nearly every old one is
# closed, so some 8% of two years' requests are open, a large but workable backlog.
RECENT_STATUSES = Weighted({"active": 40, "postponed": 12, "closed": 44, "deleted": 3, "merged": 1})
OLD_STATUSES = Weighted({"active": 1, "postponed": 1, "closed": 94, "deleted": 3, "merged": 1})
CHANNELS = Weighted(
    {
        Channel.EMAIL: 45,
        Channel.PORTAL: 20,
        Channel.PHONE: 14,
        Channel.INTERNAL: 8,
        Channel.API: 7,
        Channel.SMS: 6,
    }
)
LEVELS = Weighted({Level.LOW: 25, Level.MEDIUM: 55, Level.HIGH: 20})
TAG_COUNT = Weighted({0: 55, 1: 30, 2: 15})
RARE_SHARE = 1 / 80  # of the customers' messages and notes carry a rare token
ATTACHMENT_SHARE = 0.06  # of the customers' messages have an attachment or two
REQUESTS_PER_CONTACT = 20
CONTACTS_PER_COMPANY = 10
SWEEP_DELAY = timedelta(seconds=30)  # the sweep runs every minute: flags come a bit late
RARE_TOKEN = re.compile(r"\b0x[0-9A-F]{8}\b")


def _quiet(done: int) -> None:
    pass


# Writing -------------------------------------------------------------------------------------


class Table:
    """A model's table as the writers see it. Without `with_id` the database numbers
    the rows (nothing points at them while loading)."""

    def __init__(self, model: type[models.Model], *, with_id: bool):
        self.model = model
        self.name = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]


class CopyWriter:
    """PostgreSQL: COPY ... FROM STDIN on a thread of its own, so the next batch is
    made while the database stores this one; ids from blocks reserved on the sequences."""

    def __init__(self):
        self.quote = connection.ops.quote_name
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future | None = None
        self.defaults: dict[str, dict] = {}  # by table: the value of a column left out
        self.types: dict[str, list[int]] = {}  # by table: its columns' type oids

    @contextmanager
    def loading(self, tables: list[str], *, rebuild: bool) -> Iterator[None]:
        """Disable the tables' user triggers for the load and, with `rebuild`, drop
        their foreign keys and the (full) indexes that back no constraint, to make them
        again after it: as pg_restore does, one sort per index and one join per foreign key
        instead of an update of each per row.

        Call it inside the load's transaction: a failed load rolls all of it back, the
        disabling and dropping included. Its locks keep other writers out of the tables
        until the load commits, so nobody takes an id from a reserved block; with
        `rebuild`, readers too, of these tables and of those they point at. The triggers
        keep derived data (search vectors) up to date row by row; the loader's finish()
        brings it up to date in one go instead."""
        # Checks pending from earlier in the transaction run now (a table with pending
        # checks cannot be altered); the load's own run at the end of each COPY rather
        # than wait in memory, millions of them, for the commit.
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            self.execute(f"ALTER TABLE {self.quote(table)} DISABLE TRIGGER USER")
        remake = self.drop_foreign_keys_and_indexes(tables) if rebuild else []
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy") as self.pool:
                yield
                self.wait()
        finally:
            self.pool = self.pending = None
        for statement in remake:
            self.execute(statement)
        for table in tables:
            self.execute(f"ALTER TABLE {self.quote(table)} ENABLE TRIGGER USER")
        self.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them all

    def drop_foreign_keys_and_indexes(self, tables: list[str]) -> list[str]:
        """Drop them; return the statements that make them again, indexes first (the
        foreign keys' checks may use them)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
                "ORDER BY conrelid, conname",
                [tables],
            )
            foreign_keys = cursor.fetchall()
            cursor.execute(
                # Partial indexes stay: they hold part of the rows, and their predicates
                # would not come back from pg_get_indexdef word for word.
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) AND indpred IS NULL AND NOT EXISTS "
                "(SELECT FROM pg_constraint WHERE conindid = indexrelid AND conrelid = indrelid) "
                "ORDER BY indexrelid",
                [tables],
            )
            indexes = cursor.fetchall()
        remake_keys = []
        for table, name, definition in foreign_keys:
            table, name = self.quote(table), self.quote(name)
            self.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            remake_keys.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for name, _ in indexes:
            self.execute(f"DROP INDEX {name}")
        sorting_memory = "SET LOCAL maintenance_work_mem = '256MB'"
        return [sorting_memory] + [definition for _, definition in indexes] + remake_keys

    def reserve_ids(self, table: Table, count: int) -> int:
        """Move the table's sequence past `count` ids and return the first of them."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table.name, table.name, count],
            )
            (last,) = cursor.fetchone()
        return last - count + 1

    def write(self, batch: list[tuple[Table, list[dict]]]) -> None:
        """Write the tables' rows, in order: on the writer's thread during a load (after
        the batch before it is written), else at once."""
        self.wait()
        # The psycopg connection itself: Django's connections belong to their thread.
        # psycopg serialises the two threads' use of it.
        psycopg_connection = connection.connection
        errors_as_django_errors = connection.wrap_database_errors
        for table, _ in batch:
            if table.name not in self.defaults:
                self.defaults[table.name] = {
                    f.attname: f.get_db_prep_save(f.get_default(), connection) for f in table.fields
                }
                self.types[table.name] = self.column_types(table)
        if self.pool is None:
            self._copy(psycopg_connection, errors_as_django_errors, batch)
        else:
            self.pending = self.pool.submit(
                self._copy, psycopg_connection, errors_as_django_errors, batch
            )

    def column_types(self, table: Table) -> list[int]:
        """The columns' type oids, which binary COPY needs to know."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
                [table.name],
            )
            types = dict(cursor.fetchall())
        return [types[f.column] for f in table.fields]

    def wait(self) -> None:
        """Until the batch being written is written; its error, if it failed."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def _copy(
        self, psycopg_connection, errors_as_django_errors, batch: list[tuple[Table, list[dict]]]
    ) -> None:
        with errors_as_django_errors, psycopg_connection.cursor() as cursor:
            for table, rows in batch:
                if not rows:
                    continue
                defaults = self.defaults[table.name]
                as_tuple = itemgetter(*(f.attname for f in table.fields))
                columns = ", ".join(self.quote(f.column) for f in table.fields)
                sql = f"COPY {self.quote(table.name)} ({columns}) FROM STDIN (FORMAT BINARY)"
                with cursor.copy(sql) as copy:
                    copy.set_types(self.types[table.name])
                    write_row = copy.write_row
                    for row in rows:
                        write_row(as_tuple({**defaults, **row}))

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    def analyze(self, tables: list[str]) -> None:
        """Fresh statistics for the planner and, outside a transaction (VACUUM cannot
        run in one), the visibility map index-only scans need: autovacuum may be off,
        and is slow to get round to millions of new rows."""
        names = ", ".join(self.quote(t) for t in tables)
        self.execute(
            f"ANALYZE {names}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {names}"
        )


class OrmWriter:
    """Any other database (SQLite, the embedded default): bulk_create. SQLite has no
    triggers of ours to disable and checks foreign keys at the commit; its
    AUTOINCREMENT counter in sqlite_sequence is the sequence."""

    @contextmanager
    def loading(self, tables: list[str], *, rebuild: bool) -> Iterator[None]:
        yield

    def reserve_ids(self, table: Table, count: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table.name])
            found = cursor.fetchone()
            biggest = table.model.objects.aggregate(biggest=models.Max("pk"))["biggest"] or 0
            last = max(found[0] if found else 0, biggest)
            if found:
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                    [last + count, table.name],
                )
            else:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                    [table.name, last + count],
                )
        return last + 1

    def write(self, batch: list[tuple[Table, list[dict]]]) -> None:
        for table, rows in batch:
            model = table.model
            model.objects.bulk_create((model(**row) for row in rows), batch_size=2_000)

    def wait(self) -> None:
        pass

    def analyze(self, tables: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def writer_for_connection() -> CopyWriter | OrmWriter:
    return CopyWriter() if connection.vendor == "postgresql" else OrmWriter()


# The configuration requests are made in --------------------------------------------------------


@dataclass(frozen=True)
class _DayCachedCalendar(clocks.Calendar):
    """A business calendar that works out each day's opening spans once: the loader asks
    for the same few hundred days millions of times."""

    spans: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, calendar: clocks.Calendar) -> "_DayCachedCalendar":
        return cls(**{f.name: getattr(calendar, f.name) for f in fields(clocks.Calendar)})

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        found = self.spans.get(day)
        if found is None:
            found = self.spans[day] = super().open_spans(day)
        return found


@dataclass
class _Level:
    """One step of a priority's escalation chain."""

    alert_level: int
    minutes: int
    raise_to: Priority | None
    reason: str


@dataclass
class _Agent:
    pk: int
    username: str
    name: str


@dataclass
class _Person:
    pk: int
    first_name: str
    email: str


@dataclass
class _QueueSetup:
    queue: Queue
    stages: list[Stage]  # New, the in-progress stages in order, Closed
    stage_names: list[str]  # as the history shows them
    categories: list[int | None]
    agents: list[_Agent]
    teams: list[int | None]
    address: str
    times: dict[int, QueuePriorityTime]  # by priority id
    calendar: clocks.Calendar | None


class Setup:
    """Queues, stages, statuses, priorities, agents..., read once (seed_demo makes them)."""

    def __init__(self):
        queues = list(Queue.objects.prefetch_related("stages", "teams", "members"))
        if not queues or not Priority.objects.exists():
            raise CommandError("No queues or priorities yet: run `manage.py seed_demo` first.")
        users = get_user_model().objects.filter(contact__isnull=True, is_active=True)
        self.agents = [
            _Agent(u.pk, u.get_username(), u.get_full_name() or u.get_username())
            for u in users.order_by("pk")
        ]
        if not self.agents:
            raise CommandError("No agents yet: run `manage.py seed_demo` first.")
        agents = {a.pk: a for a in self.agents}
        categories = list(Category.objects.all())
        times = list(QueuePriorityTime.objects.all())
        calendars = {
            c.pk: _DayCachedCalendar.of(c.as_calendar())
            for c in BusinessCalendar.objects.prefetch_related("opening_hours", "holidays")
        }
        self.queues = []
        for queue in queues:
            stages = sorted(queue.stages.all(), key=lambda s: (s.state, s.position, s.pk))
            if [s.state for s in stages[:1] + stages[-1:]] != [Stage.State.NEW, Stage.State.CLOSED]:
                raise CommandError(f"The queue {queue} needs its New and Closed stages.")
            self.queues.append(
                _QueueSetup(
                    queue=queue,
                    stages=stages,
                    stage_names=[str(s) for s in stages],
                    categories=[c.pk for c in categories if queue.accepts_category(c)] + [None],
                    agents=[agents[m.pk] for m in queue.members.all() if m.pk in agents]
                    or self.agents,
                    teams=[t.pk for t in queue.teams.all()] + [None],
                    address=queue.email_address or settings.DEFAULT_FROM_EMAIL,
                    times={t.priority_id: t for t in times if t.queue_id == queue.pk},
                    calendar=calendars.get(queue.calendar_id),
                )
            )
        self.active = Status.builtin(Status.Base.ACTIVE)
        for base in Status.Base.values:
            Status.builtin(base)
        # Per base, the built-in status most often, the custom ones now and then.
        by_base: dict[str, dict[Status, int]] = {}
        for status in Status.objects.all():
            by_base.setdefault(status.base, {})[status] = 4 if status.is_builtin else 1
        self.statuses = {base: Weighted(weights) for base, weights in by_base.items()}
        self.status_names = {s.pk: str(s) for weights in by_base.values() for s in weights}
        self.priorities = list(Priority.objects.order_by("rank"))
        rules = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.select_related()}
        # The priority model's cell, else any priority.
        self.priority_model = {
            (impact, urgency): rules.get((impact, urgency))
            for impact in Level.values
            for urgency in Level.values
        }
        self.tags = list(Tag.objects.values_list("pk", flat=True))
        self.chains: dict[int, list[_Level]] = {}
        levels = EscalationLevel.objects.select_related("raise_to", "priority")
        for level in levels.order_by("priority", "alert_level"):
            raises = level.action == EscalationLevel.Action.RAISE_PRIORITY
            self.chains.setdefault(level.priority_id, []).append(
                _Level(
                    level.alert_level,
                    level.minutes,
                    level.raise_to if raises else None,
                    level.describe(),
                )
            )


# The load ---------------------------------------------------------------------------------------


class _Request:
    """A request being made: its row, and what its messages and history need to know."""

    __slots__ = (
        "row",
        "setup",
        "base",
        "status",
        "priority",
        "stage",
        "product",
        "contact",
        "agent",
        "creator",
        "end",
        "active_until",
        "assigned_at",
        "merge_into",
        "first_message",
    )


class BulkLoader:
    """Makes requests batch by batch and hands them to the writer.

    load() writes everything in one transaction with the loaded tables' user triggers
    disabled; finish() then does once, for all loaded rows, what those triggers would
    have done row by row, and refreshes the planner's statistics."""

    def __init__(
        self,
        *,
        rng: random.Random,
        messages_per_request: int,
        now: datetime | None = None,
        writer: CopyWriter | OrmWriter | None = None,
    ):
        self.rng = rng
        self.per_request = messages_per_request
        self.now = now or timezone.now()
        self.writer = writer or writer_for_connection()
        self.setup = Setup()
        self.tables = {
            Company: Table(Company, with_id=True),
            Contact: Table(Contact, with_id=True),
            Ticket: Table(Ticket, with_id=True),
            TicketTag: Table(TicketTag, with_id=False),
            Message: Table(Message, with_id=True),
            Attachment: Table(Attachment, with_id=False),
            Event: Table(Event, with_id=False),
        }
        self.texts = TextPools(rng)
        self.rare = RareTokens(rng)
        self.run = f"{rng.getrandbits(32):08x}"  # keeps Message-IDs unique across loads
        self.counted = dict.fromkeys(LOADED_MODELS, 0)
        self.ticket_ids: list[range] = []  # the loaded requests, for finish()
        self.contacts: list[_Person] = []
        self.survivors: deque[_Request] = deque(maxlen=1_000)  # the latest, to merge into
        self.counter_keys: dict[tuple[str, int, int], str] = {}

    @property
    def messages(self) -> int:
        return self.counted[Message]

    def load(
        self, requests: int, *, batch: int = 5_000, progress: Callable[[int], None] = _quiet
    ) -> None:
        """Write `requests` requests with their contacts, messages and history. While
        the writer stores one batch, the next one is made."""
        tables = [self.tables[m].name for m in LOADED_MODELS]
        with transaction.atomic():
            # Indexes and foreign keys are made faster anew than kept up to date for a
            # load as large as what is there.
            rebuild = requests >= Ticket.objects.count()
            with self.writer.loading(tables, rebuild=rebuild):
                contacts = max(requests // REQUESTS_PER_CONTACT, 10)
                self.add_contacts(contacts, companies=max(contacts // CONTACTS_PER_COMPANY, 1))
                done, plans = 0, self.plan_batch(min(batch, requests), 0, requests)
                while plans:
                    rows = self.rows(plans)
                    done += len(plans)
                    self.writer.wait()  # the database is ours again for the next numbers
                    plans = self.plan_batch(min(batch, requests - done), done, requests)
                    self.write(rows)
                    progress(done)

    def finish(self) -> None:
        """After the load: what the disabled triggers would have done, for the loaded
        rows at once (the requests are self.ticket_ids); then the tables are analysed."""
        if self.ticket_ids:
            rebuild_search_documents(first_id=min(ids.start for ids in self.ticket_ids))
        self.writer.analyze([self.tables[m].name for m in LOADED_MODELS])

    def write(self, rows: dict[type[models.Model], list[dict]]) -> None:
        self.writer.write([(self.tables[model], batch) for model, batch in rows.items()])
        for model, batch in rows.items():
            self.counted[model] += len(batch)

    # Contacts and companies

    def add_contacts(self, count: int, *, companies: int) -> None:
        """Contacts, most of them of a company: the ones requests are for."""
        rng = self.rng
        since = self.now - HISTORY - timedelta(days=30)
        taken = set(Company.objects.values_list("name", flat=True))
        first_company = self.writer.reserve_ids(self.tables[Company], companies)
        company_rows = [
            {"id": first_company + n, "name": name, "domain": domain, "created_at": since}
            for n, (name, domain) in enumerate(self.company_names(companies, taken))
        ]
        first_contact = self.writer.reserve_ids(self.tables[Contact], count)
        contact_rows = []
        for n in range(count):
            pk = first_contact + n
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = company_rows[n % companies] if n % 7 else None  # some are private
            domain = company["domain"] if company else "mail.example"
            email = f"{slug(first)}.{slug(last)}.{pk}@{domain}"
            contact_rows.append(
                {
                    "id": pk,
                    "name": f"{first} {last}",
                    "email": email,
                    "phone": f"+47 9{pk % 10_000_000:07d}",
                    "company_id": company["id"] if company else None,
                    "created_at": since,
                }
            )
            self.contacts.append(_Person(pk, first, email))
        self.write({Company: company_rows, Contact: contact_rows})
        # pick_contact() favours the first of the list: shuffled, the busy customers
        # are of all companies.
        rng.shuffle(self.contacts)

    def company_names(self, count: int, taken: set[str]) -> Iterator[tuple[str, str]]:
        """Unique names and their domains: every combination once, then numbered."""
        combos = [
            (name, trade, form)
            for name in COMPANY_NAMES
            for trade in COMPANY_TRADES
            for form in COMPANY_FORMS
        ]
        self.rng.shuffle(combos)
        made, round_ = 0, 1
        while True:
            for name, trade, form in combos:
                full = f"{name} {trade} {form}" + (f" {round_}" if round_ > 1 else "")
                if full in taken:
                    continue
                taken.add(full)
                yield full, f"{slug(name)}-{slug(trade)}.example"
                made += 1
                if made == count:
                    return
            round_ += 1

    def pick_contact(self) -> _Person:
        # Skewed: the contact at position x is picked with a probability falling off
        # like x^(-1/3), so a few customers write a lot and most only now and then.
        return self.contacts[int(len(self.contacts) * self.rng.random() ** 1.5)]

    # Requests

    def plan_batch(self, count: int, first: int, total: int) -> list[_Request]:
        """The requests `first` to `first + count` of a load of `total`, numbered and
        with their ids, spread evenly over the last two years in creation order."""
        if count < 1:
            return []
        first_id = self.writer.reserve_ids(self.tables[Ticket], count)
        first_message = self.writer.reserve_ids(self.tables[Message], count * self.per_request)
        plans = [self.plan(first_id + n, first + n, total) for n in range(count)]
        for n, plan in enumerate(plans):
            plan.first_message = first_message + n * self.per_request
        self.number(plans)
        return plans

    def rows(self, plans: list[_Request]) -> dict[type[models.Model], list[dict]]:
        tickets, tags, messages, attachments, events = [], [], [], [], []
        for plan in plans:
            self.conclude(plan, events)
            self.converse(plan, messages, attachments, events)
            tickets.append(plan.row)
            tags += self.tag(plan)
        self.ticket_ids.append(range(plans[0].row["id"], plans[-1].row["id"] + 1))
        return {
            Ticket: tickets,
            TicketTag: tags,
            Message: messages,
            Attachment: attachments,
            Event: events,
        }

    def plan(self, pk: int, index: int, total: int) -> _Request:
        """A request's properties and the outline of its life; number() numbers it."""
        rng, setup = self.rng, self.setup
        plan = _Request()
        created = self.now - HISTORY + HISTORY * ((index + rng.random()) / total)
        base = (RECENT_STATUSES if self.now - created < RECENT else OLD_STATUSES).draw(rng)
        if base == Status.Base.MERGED and not self.survivors:
            base = Status.Base.DELETED  # nothing to merge into yet: the very first ones
        queue = rng.choice(setup.queues)
        stages = queue.stages
        if base == Status.Base.CLOSED:
            stage = stages[-1]
        else:
            stage = stages[0] if rng.random() < 0.35 else rng.choice(stages[:-1])
        channel = CHANNELS.draw(rng)
        if channel in AGENT_CHANNELS:
            # Whoever registers a call or an internal request handles it.
            plan.creator = plan.agent = rng.choice(queue.agents)
        else:
            plan.creator = None
            plan.agent = rng.choice(queue.agents) if rng.random() < 0.85 else None
        # About a day's work for the median request; a few take weeks.
        worked = timedelta(minutes=min(rng.lognormvariate(7.1, 1.2), 60 * 24 * 60))
        end = max(created, min(created + worked, self.now - timedelta(minutes=1)))
        impact, urgency = LEVELS.draw(rng), LEVELS.draw(rng)
        priority = setup.priority_model[impact, urgency] or rng.choice(setup.priorities)
        status = setup.statuses[base].draw(rng)
        contact = None if channel == Channel.INTERNAL else self.pick_contact()
        product = self.texts.product.draw(rng)
        plan.setup, plan.base, plan.status, plan.priority = queue, base, status, priority
        plan.stage, plan.product, plan.contact, plan.end = stage, product, contact, end
        plan.active_until = self.now if base == Status.Base.ACTIVE else end
        if plan.agent is None or plan.agent is plan.creator:
            plan.assigned_at = created
        else:
            plan.assigned_at = created + (end - created) * rng.uniform(0.0, 0.1)
        plan.merge_into = rng.choice(self.survivors) if base == Status.Base.MERGED else None
        if base in (Status.Base.ACTIVE, Status.Base.POSTPONED, Status.Base.CLOSED):
            self.survivors.append(plan)  # a later request may be merged into this one
        plan.row = {
            "id": pk,
            "subject": rng.choice(self.texts.subjects[product]),
            "contact_id": contact.pk if contact else None,
            "queue_id": queue.queue.pk,
            "stage_id": stage.pk,
            "status_id": status.pk,
            "base_status": base,
            "category_id": rng.choice(queue.categories),
            "impact": impact,
            "urgency": urgency,
            "owner_id": plan.agent.pk if plan.agent else None,
            "team_id": rng.choice(queue.teams),
            "channel": channel,
            "created_at": created,
            "updated_at": end,
        }
        return plan

    def number(self, plans: list[_Request]) -> None:
        """Numbers from each queue's own counter in creation order, so requests made
        through the workflow afterwards continue the sequence."""
        groups: dict[str, list[_Request]] = {}
        for plan in plans:
            created, scheme = plan.row["created_at"], plan.setup.queue.numbering_scheme
            key = self.counter_keys.get((scheme, created.year, created.month))
            if key is None:
                key = counter_key(scheme, created)
                self.counter_keys[scheme, created.year, created.month] = key
            groups.setdefault(key, []).append(plan)
        for group in groups.values():
            first = group[0]
            numbers = next_numbers(
                first.setup.queue.numbering_scheme, first.row["created_at"], len(group)
            )
            for plan, number in zip(group, numbers, strict=True):
                plan.row["number"] = number

    def conclude(self, plan: _Request, events: list[dict]) -> None:
        """Where the request's life ended: status fields, clocks, time counters, and the
        history of its creation, progress, escalations and last status change."""
        row, base, rng = plan.row, plan.base, self.rng
        pk, created, end = row["id"], row["created_at"], plan.end
        actor = plan.agent.pk if plan.agent else None
        creator = plan.creator.pk if plan.creator else None
        events.append(_event(pk, created, "created", actor=creator, new=row["number"]))
        if plan.agent is not None and plan.agent is not plan.creator:
            owner = plan.agent.username
            # The agent took it (assign_ticket by themselves).
            events.append(
                _event(pk, plan.assigned_at, "assigned", actor=actor, field="owner", new=owner)
            )
        self.plan_clocks(plan, events)
        names = plan.setup.stage_names
        # The stages it went through to the one it is in (closed: to the one before).
        if base == Status.Base.CLOSED:
            reached = rng.randrange(len(names) - 1)
        else:
            reached = plan.setup.stages.index(plan.stage)
        for n in range(reached):
            at = created + (end - created) * (0.2 + 0.6 * (n + 1) / (reached + 1))
            events.append(
                _event(
                    pk, at, "progressed", actor=actor, field="stage", old=names[n], new=names[n + 1]
                )
            )
        self.count_time(plan)
        if base == Status.Base.ACTIVE:
            return
        row["clocks_paused_at"] = end
        active, status = (
            self.setup.status_names[self.setup.active.pk],
            self.setup.status_names[plan.status.pk],
        )
        events.append(
            _event(pk, end, "status_changed", actor=actor, field="status", old=active, new=status)
        )
        if base == Status.Base.CLOSED:
            resolved = rng.random() < 0.85
            row.update(closed_at=end, resolved=resolved, alert_at=None)
            events += [
                _event(
                    pk, end, "closed", actor=actor, field="stage", old=names[reached], new=names[-1]
                ),
                _event(pk, end, "closed", actor=actor, field="resolved", new=str(resolved)),
                _event(pk, end, "closed", actor=actor, field="closed_at", new=end.isoformat()),
            ]
        elif base == Status.Base.POSTPONED:
            until = self.now + timedelta(hours=rng.randint(2, 14 * 24))
            row["postponed_until"] = until
            events.append(
                _event(
                    pk,
                    end,
                    "postponed",
                    actor=actor,
                    field="postponed_until",
                    new=until.isoformat(),
                )
            )
        elif base == Status.Base.DELETED:
            events.append(_event(pk, end, "deleted", actor=actor))
        else:
            into = plan.merge_into.row
            row["merged_into_id"] = into["id"]
            events += [
                _event(
                    pk,
                    end,
                    "merged",
                    actor=actor,
                    field="merged_into",
                    new=f"{into['number']} {into['subject']}",
                ),
                _event(
                    into["id"],
                    end,
                    "merged_in",
                    actor=actor,
                    field="merged_ticket",
                    new=row["number"],
                ),
            ]

    def count_time(self, plan: _Request) -> None:
        """The time counters: queue until an agent has the request, internal from then
        on; they run while it is open and add up to the time it was open."""
        row, created = plan.row, plan.row["created_at"]
        in_queue = int((plan.assigned_at - created).total_seconds()) if plan.agent else None
        if plan.base in (Status.Base.ACTIVE, Status.Base.POSTPONED):
            row["time_counter"] = TimeCounter.INTERNAL if plan.agent else TimeCounter.QUEUE
            row["time_counter_since"] = plan.assigned_at
            row["queue_seconds"] = in_queue or 0
        else:
            open_for = int((plan.end - created).total_seconds())
            row["queue_seconds"] = open_for if in_queue is None else in_queue
            row["internal_seconds"] = 0 if in_queue is None else open_for - in_queue

    def plan_clocks(self, plan: _Request, events: list[dict]) -> None:
        """Deadline, alert time and escalation chain as the workflow plans them and the
        sweep moves them on, up to when the request stopped being active (now, for the
        active ones): the sweep would have flagged what was due by then. Of the levels'
        actions only raising the priority is played out (it restarts the chain and moves
        the deadline); notifications are not made."""
        row, setup, chains = plan.row, plan.setup, self.setup.chains
        pk, created, until = row["id"], row["created_at"], plan.active_until
        calendar = setup.calendar
        priority, level, position, start, next_at = plan.priority, 0, 0, created, None
        while position < len(chain := chains.get(priority.pk, ())):
            step = chain[position]
            due = clocks.add_minutes(start, step.minutes, calendar)
            if due > until:
                next_at = due
                break
            at = due + SWEEP_DELAY
            events.append(
                _event(
                    pk,
                    at,
                    "escalated",
                    field="escalation_level",
                    old=str(level),
                    new=str(step.alert_level),
                    reason=step.reason,
                )
            )
            level, start, position = step.alert_level, at, position + 1
            if step.raise_to is not None and step.raise_to.rank > priority.rank:
                events.append(
                    _event(
                        pk,
                        at,
                        "changed",
                        field="priority",
                        old=priority.name,
                        new=step.raise_to.name,
                    )
                )
                priority, level, position = step.raise_to, 0, 0
        plan.priority = priority
        row.update(priority_id=priority.pk, escalation_level=level, next_escalation_at=next_at)
        deadline, alert_at = workflow.due_times(
            created,
            setup.times.get(priority.pk),
            is_new=plan.stage.state == Stage.State.NEW,
            calendar=calendar,
        )
        row.update(deadline=deadline, alert_at=alert_at)
        for due, passed in ((alert_at, workflow.ALERT), (deadline, workflow.OVERDUE)):
            if due is not None and due + SWEEP_DELAY <= until:
                at = due + SWEEP_DELAY
                row[passed.flag] = at
                events.append(
                    _event(
                        pk,
                        at,
                        passed.action,
                        field=passed.flag,
                        new=at.isoformat(),
                        reason=passed.reason,
                    )
                )

    def tag(self, plan: _Request) -> list[dict]:
        tags = self.setup.tags
        count = min(TAG_COUNT.draw(self.rng), len(tags))
        return [{"ticket_id": plan.row["id"], "tag_id": t} for t in self.rng.sample(tags, k=count)]

    # Conversation

    def roles(self, plan: _Request) -> list[str]:
        """Who writes each message: the customer first (for an internal request, an
        agent's note); then agents and customer take turns, with notes and a forward to
        a supplier now and then; a closed request ends with the agent's closing reply."""
        count, rng = self.per_request, self.rng
        if plan.contact is None:
            return ["note"] * count
        roles = ["first"]
        while len(roles) < count:
            if len(roles) % 2 == 0:
                roles.append("customer" if rng.random() < 0.8 else "note")
            elif len(roles) + 1 < count and rng.random() < 0.04:
                roles += ["forward", "supplier"]
            else:
                roles.append("reply" if rng.random() < 0.85 else "note")
        if plan.base == Status.Base.CLOSED and count > 1 and roles[-1] != "supplier":
            roles[-1] = "closing"
        return roles

    def converse(
        self,
        plan: _Request,
        messages: list[dict],
        attachments: list[dict],
        events: list[dict],
    ) -> None:
        """The request's messages, from its creation to its last activity, with the
        events the workflow writes for them."""
        row, created = plan.row, plan.row["created_at"]
        roles = self.roles(plan)
        last = len(roles) - 1
        span = plan.end - created
        thread: list[str] = []  # the Message-IDs of the mail with the customer so far
        for n, role in enumerate(roles):
            # Early messages follow each other quickly, later ones more slowly.
            at = created + span * ((n / last) ** 2 if last else 0)
            message = {"id": plan.first_message + n, "ticket_id": row["id"], "created_at": at}
            if role in ("first", "customer"):
                self.customer_message(plan, message, role, thread, attachments, events)
            elif role in ("reply", "closing"):
                self.agent_reply(plan, message, role, thread, events)
            elif role == "note":
                self.note(plan, message, n == 0, events)
            elif role == "forward":
                self.forward(plan, message, events)
            else:
                self.supplier_answer(plan, message, messages[-1], events)
            messages.append(message)
        # Unread for its owner when the customer wrote last on an open request.
        row["is_unread"] = (
            plan.agent is not None
            and roles[-1] in ("first", "customer")
            and plan.base in (Status.Base.ACTIVE, Status.Base.POSTPONED)
        )

    def customer_message(
        self,
        plan: _Request,
        message: dict,
        role: str,
        thread: list[str],
        attachments: list[dict],
        events: list[dict],
    ) -> None:
        rng, row, contact = self.rng, plan.row, plan.contact
        mpk = message["id"]
        if role == "first":
            kind = FIRST_MESSAGE_KIND[row["channel"]]
            text = rng.choice(self.texts.customer_bodies[plan.product])
        else:
            kind = Message.Kind.PORTAL if row["channel"] == Channel.PORTAL else Message.Kind.EMAIL
            text = rng.choice(self.texts.customer_replies[plan.product])
        if rng.random() < RARE_SHARE:
            text = f"{text} {self.rare.next_sentence()}"
        closing = CUSTOMER_CLOSINGS[mpk % len(CUSTOMER_CLOSINGS)]
        message.update(
            kind=kind,
            direction=Message.Direction.INBOUND,
            author_contact_id=contact.pk,
            subject=row["subject"]
            if role == "first"
            else f"Re: [{row['number']}] {row['subject']}",
            body_text=f"{text}\n\n{closing}\n{contact.first_name}",
        )
        if kind == Message.Kind.EMAIL:
            message_id = f"<{mpk}.{self.run}@{contact.email.rpartition('@')[2]}>"
            message.update(
                from_address=contact.email,
                to=plan.setup.address,
                message_id=message_id,
                in_reply_to=thread[-1] if thread else "",
                references=" ".join(thread[-10:]),
            )
            thread.append(message_id)
        if role == "customer":
            events.append(
                _event(
                    row["id"],
                    message["created_at"],
                    "message_added",
                    field="message",
                    new=kind.label,
                )
            )
        if rng.random() < ATTACHMENT_SHARE:
            self.attach(message, attachments)

    def agent_reply(
        self, plan: _Request, message: dict, role: str, thread: list[str], events: list[dict]
    ) -> None:
        rng, row, agent = self.rng, plan.row, plan.agent or plan.setup.agents[0]
        mpk, at = message["id"], message["created_at"]
        pool = self.texts.agent_replies if role == "reply" else self.texts.agent_closings
        text = rng.choice(pool[plan.product])
        message_id = f"<{mpk}.{self.run}@{settings.MESSAGE_ID_DOMAIN}>"
        message.update(
            kind=Message.Kind.EMAIL,
            direction=Message.Direction.OUTBOUND,
            author_id=agent.pk,
            subject=f"[{row['number']}] {row['subject']}",
            body_text=f"Hello {plan.contact.first_name},\n\n{text}\n\nBest regards,\n{agent.name}",
            from_address=plan.setup.address,
            to=plan.contact.email,
            message_id=message_id,
            in_reply_to=thread[-1] if thread else "",
            references=" ".join(thread[-10:]),
            sent_at=at + timedelta(seconds=5),
            time_units=rng.choice((0, 0, 5, 10, 15)),
        )
        thread.append(message_id)
        if "replied_at" not in row:
            row["replied_at"] = at
            events.append(
                _event(
                    row["id"],
                    at,
                    "first_reply",
                    actor=agent.pk,
                    field="replied_at",
                    new=at.isoformat(),
                )
            )
        events.append(
            _event(row["id"], at, "replied", actor=agent.pk, field="to", new=plan.contact.email)
        )

    def note(self, plan: _Request, message: dict, first: bool, events: list[dict]) -> None:
        """An internal note; an internal request's first message is one too."""
        rng, row = self.rng, plan.row
        agent = plan.creator if first else plan.agent or plan.creator
        pool = self.texts.customer_bodies if first else self.texts.notes
        text = rng.choice(pool[plan.product])
        if rng.random() < RARE_SHARE:
            text = f"{text} {self.rare.next_sentence()}"
        author = agent.pk if agent else None
        message.update(
            kind=Message.Kind.NOTE,
            direction=Message.Direction.INTERNAL,
            is_public=False,
            author_id=author,
            subject=row["subject"] if first else "",
            body_text=text,
            time_units=rng.choice((0, 5, 10, 30)),
            is_pinned=not first and rng.random() < 0.02,
        )
        if not first:
            events.append(
                _event(
                    row["id"],
                    message["created_at"],
                    "message_added",
                    actor=author,
                    field="message",
                    new="Internal note",
                )
            )

    def forward(self, plan: _Request, message: dict, events: list[dict]) -> None:
        """The request sent to an outside party (a supplier), hidden from the customer."""
        rng, row, agent = self.rng, plan.row, plan.agent or plan.setup.agents[0]
        supplier = f"service@{slug(rng.choice(COMPANY_NAMES))}.example"
        text = rng.choice(self.texts.forwards[plan.product])
        message.update(
            kind=Message.Kind.EMAIL,
            direction=Message.Direction.OUTBOUND,
            is_public=False,
            is_external=True,
            author_id=agent.pk,
            subject=f"[{row['number']}] Fwd: {row['subject']}",
            body_text=f"Hello,\n\n{text}\n\n{agent.name}",
            from_address=plan.setup.address,
            to=supplier,
            message_id=f"<{message['id']}.{self.run}@{settings.MESSAGE_ID_DOMAIN}>",
            sent_at=message["created_at"] + timedelta(seconds=5),
        )
        events.append(
            _event(
                row["id"],
                message["created_at"],
                "forwarded",
                actor=agent.pk,
                field="to",
                new=supplier,
            )
        )

    def supplier_answer(
        self, plan: _Request, message: dict, forward: dict, events: list[dict]
    ) -> None:
        supplier = forward["to"]
        message.update(
            kind=Message.Kind.EMAIL,
            direction=Message.Direction.INBOUND,
            is_public=False,
            is_external=True,
            subject=f"Re: {forward['subject']}",
            body_text=self.rng.choice(self.texts.supplier_answers[plan.product]),
            from_address=supplier,
            to=plan.setup.address,
            message_id=f"<{message['id']}.{self.run}@{supplier.rpartition('@')[2]}>",
            in_reply_to=forward["message_id"],
            references=forward["message_id"],
        )
        events.append(
            _event(
                plan.row["id"], message["created_at"], "message_added", field="message", new="Email"
            )
        )

    def attach(self, message: dict, attachments: list[dict]) -> None:
        """Attachment rows only: no file is written to the storage."""
        rng = self.rng
        for n in range(rng.choice((1, 1, 1, 2))):
            filename, content_type, size = rng.choice(ATTACHMENTS)
            stem, _, extension = filename.rpartition(".")
            month = message["created_at"].strftime("%Y/%m")
            attachments.append(
                {
                    "message_id": message["id"],
                    "file": f"attachments/{month}/{stem}_{message['id']:x}{n}.{extension}",
                    "filename": filename,
                    "content_type": content_type,
                    "size": int(size * rng.uniform(0.2, 3)),
                }
            )


def _event(
    ticket: int,
    at: datetime,
    action: str,
    *,
    actor: int | None = None,
    field: str = "",
    old: str = "",
    new: str = "",
    reason: str = "",
) -> dict:
    """An Event row; values written as tickets.workflow writes them."""
    return {
        "ticket_id": ticket,
        "actor_id": actor,
        "at": at,
        "action": action,
        "field": field,
        "old_value": old,
        "new_value": new,
        "reason": reason,
    }


# Words to search for ----------------------------------------------------------------------------


def sample_search_words(sample: int = 2_000) -> tuple[str | None, str | None]:
    """A common word and a rare token that really are in the messages, for the search
    benchmark: of COMMON_WORDS the one in most of the latest `sample` messages, and an
    error code (0x8007A3F1) of seed_bulk's rare tokens, each in only a handful of
    messages. None for a word there is none of."""
    bodies = list(Message.objects.order_by("-pk").values_list("body_text", flat=True)[:sample])
    counts = {word: sum(1 for b in bodies if _has_word(word, b)) for word in COMMON_WORDS}
    common = max(counts, key=counts.get) if any(counts.values()) else None
    rare = next((m.group() for b in bodies if (m := RARE_TOKEN.search(b))), None)
    if rare is None:
        # None among the latest: look through the others until the first one.
        older = Message.objects.filter(body_text__contains=" 0x").values_list(
            "body_text", flat=True
        )
        rare = next((m.group() for b in older.iterator() if (m := RARE_TOKEN.search(b))), None)
    return common, rare


def _has_word(word: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None
