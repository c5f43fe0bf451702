import random
import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.db.models import F
from django.utils import timezone

from benchmark.bulk import RARE_TOKEN, BulkLoader, CopyWriter, sample_search_words
from benchmark.bulk_vocabulary import ACCENTED_WORDS, COMMON_WORDS
from tests.factories import ContactFactory, QueueFactory, TicketFactory, UserFactory
from tickets import search, workflow
from tickets.models import (
    Attachment,
    Category,
    Channel,
    Company,
    Contact,
    Event,
    Message,
    NumberCounter,
    Priority,
    Queue,
    SearchDocument,
    Stage,
    Status,
    Tag,
    Ticket,
)

pytestmark = pytest.mark.django_db

LOADED_TABLES = [
    "tickets_company",
    "tickets_contact",
    "tickets_ticket",
    "tickets_ticket_tags",
    "tickets_message",
    "tickets_attachment",
    "tickets_event",
]


def seed_bulk(*args):
    out = StringIO()
    call_command("seed_bulk", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo():
    """The demo's configuration (and its fifty requests)."""
    call_command("seed_demo", stdout=StringIO())
    return set(Ticket.objects.values_list("pk", flat=True))


@pytest.fixture
def loaded(demo):
    """The output of loading 1,000 requests of 4 messages, and those requests."""
    output = seed_bulk("--requests", "1000", "--messages-per-request", "4", "--batch", "300")
    return output, Ticket.objects.exclude(pk__in=demo)


def test_it_loads_requests_contacts_messages_and_history_and_prints_the_rate(demo):
    companies, contacts = Company.objects.count(), Contact.objects.count()
    output = seed_bulk("--requests", "600", "--messages-per-request", "3", "--batch", "250")
    tickets = Ticket.objects.exclude(pk__in=demo)
    assert tickets.count() == 600
    assert Message.objects.filter(ticket__in=tickets).count() == 600 * 3
    assert Event.objects.filter(ticket__in=tickets, action="created").count() == 600
    assert Contact.objects.count() - contacts == 30  # one per 20 requests
    assert Company.objects.count() - companies == 3  # one per 10 contacts
    assert "seeded 600 requests and 1,800 messages in" in output
    assert "requests/s" in output


def test_every_queue_stage_status_priority_category_and_channel_is_used(loaded):
    _, tickets = loaded
    for model, field in [
        (Queue, "queue"),
        (Stage, "stage"),
        (Status, "status"),
        (Priority, "priority"),
        (Category, "category"),
        (Tag, "tags"),
    ]:
        unused = model.objects.exclude(pk__in=tickets.values(field))
        assert not unused.exists(), f"no request has the {field} {list(unused)}"
    statuses = Counter(tickets.values_list("status__name", flat=True))
    channels = Counter(tickets.values_list("channel", flat=True))
    assert set(channels) == set(Channel.values)
    assert min(statuses.values()) >= 3, statuses  # open ones are few, as in real life
    assert min(channels.values()) >= 30, channels
    assert tickets.filter(category__isnull=True).exists()


def test_requests_are_left_as_the_workflow_leaves_them(loaded):
    _, tickets = loaded
    closed = tickets.filter(base_status=Status.Base.CLOSED)
    assert closed.count() > 500
    assert not closed.exclude(stage__state=Stage.State.CLOSED).exists()
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not tickets.open().filter(stage__state=Stage.State.CLOSED).exists()
    assert not tickets.exclude(base_status=F("status__base")).exists()
    merged = tickets.filter(base_status=Status.Base.MERGED)
    assert merged.exists()
    assert not merged.filter(merged_into__base_status__in=["merged", "deleted"]).exists()
    postponed = tickets.filter(base_status=Status.Base.POSTPONED)
    assert not postponed.filter(postponed_until__lte=F("updated_at")).exists()
    assert not tickets.filter(contact__isnull=True).exclude(channel=Channel.INTERNAL).exists()
    for ticket in closed[:50]:
        # The time counters add up to the time it was open.
        open_for = (ticket.closed_at - ticket.created_at).total_seconds()
        assert abs(ticket.time_spent().total.total_seconds() - open_for) <= 1


def test_what_the_sweep_would_have_done_by_the_time_of_the_load_is_done(demo):
    now = timezone.now() - timedelta(hours=1)
    BulkLoader(rng=random.Random(1), messages_per_request=2, now=now).load(500)
    tickets = Ticket.objects.exclude(pk__in=demo)
    assert not tickets.due_for_alert(now).exists()
    assert not tickets.due_for_deadline(now).exists()
    assert not tickets.due_for_escalation(now).exists()
    assert not tickets.due_to_wake(now).exists()
    overdue = tickets.filter(base_status=Status.Base.ACTIVE, deadline__lte=now)
    assert overdue.count() > 10
    assert Event.objects.filter(ticket__in=overdue, action="overdue").count() == overdue.count()
    assert Event.objects.filter(ticket__in=tickets, action="escalated").exists()


def test_messages_and_history_tell_each_requests_story(loaded):
    _, tickets = loaded
    ticket = tickets.filter(base_status=Status.Base.CLOSED, channel=Channel.EMAIL).first()
    messages = list(ticket.messages.order_by("pk"))
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
    assert messages[0].author_contact == ticket.contact
    assert messages[0].direction == Message.Direction.INBOUND
    assert messages[-1].created_at <= ticket.updated_at == ticket.closed_at
    first_reply = next(m for m in messages if m.direction == Message.Direction.OUTBOUND)
    assert ticket.replied_at == first_reply.created_at
    actions = list(ticket.events.values_list("action", flat=True))
    assert actions[0] == "created"
    assert {"first_reply", "replied", "status_changed", "closed"} <= set(actions)
    assert ticket.events.get(action="created").new_value == ticket.number
    assert ticket.events.get(field="status").new_value == str(ticket.status)
    messages = Message.objects.filter(ticket__in=tickets)
    assert set(Counter(messages.values_list("ticket", flat=True)).values()) == {4}
    # Each mail answers one that is there.
    answers = messages.exclude(in_reply_to="")
    answered = set(Message.objects.values_list("message_id", flat=True))
    assert answers.exists()
    assert set(answers.values_list("in_reply_to", flat=True)) <= answered


def test_attachments_are_rows_with_plausible_names_but_no_files(loaded):
    _, tickets = loaded
    attachments = Attachment.objects.filter(message__ticket__in=tickets)
    assert attachments.count() > 50
    attachment = attachments.first()
    assert attachment.file.name.startswith("attachments/")
    assert attachment.size > 0
    assert "/" in attachment.content_type
    assert not default_storage.exists(attachment.file.name)


def test_the_words_for_search_benchmarks_are_really_in_the_messages(loaded):
    output, tickets = loaded
    common, rare = sample_search_words()
    messages = Message.objects.filter(ticket__in=tickets)
    assert common in COMMON_WORDS
    assert messages.filter(body_text__icontains=common).count() > messages.count() / 10
    assert RARE_TOKEN.fullmatch(rare)
    assert 1 <= messages.filter(body_text__contains=rare).count() <= 5
    assert f"common {common!r} is in" in output
    assert f"rare {rare!r} is in" in output
    for word in ACCENTED_WORDS:
        assert messages.filter(body_text__contains=word).exists(), word
    assert Contact.objects.filter(name__contains="ü").exists()


def test_there_are_no_words_without_messages():
    assert sample_search_words() == (None, None)


def test_rows_made_afterwards_through_the_workflow_continue_after_the_loaded_ones(loaded):
    biggest = {model: model.objects.order_by("-pk").first().pk for model in (Ticket, Message)}
    company = Company.objects.create(name="After the load Ltd")
    ticket = workflow.create_ticket(
        queue=Queue.objects.get(name="Support"),
        subject="After the load",
        by=None,
        contact=ContactFactory(company=company),
        body="It still works.",
    )
    reply = workflow.reply_to_customer(ticket, by=UserFactory(), body="Good to hear.")
    assert ticket.pk > biggest[Ticket]
    assert reply.pk > biggest[Message]
    assert ticket.contact.pk > Contact.objects.exclude(pk=ticket.contact.pk).latest("pk").pk
    assert company.pk > Company.objects.exclude(pk=company.pk).latest("pk").pk
    assert Event.objects.latest("pk").ticket == ticket


def test_numbers_continue_the_queue_counter_in_creation_order():
    UserFactory()
    queue = QueueFactory(numbering_scheme="B-{seq}")
    first = TicketFactory(queue=queue)
    seed_bulk("--requests", "120", "--batch", "50")
    bulk = sorted(Ticket.objects.exclude(pk=first.pk), key=lambda t: int(t.number[2:]))
    assert [t.number for t in bulk] == [f"B-{n}" for n in range(2, 122)]
    assert [t.created_at for t in bulk] == sorted(t.created_at for t in bulk)
    assert NumberCounter.objects.get(key="B-{seq}").last_value == 121
    assert TicketFactory(queue=queue).number == "B-122"


@pytest.mark.parametrize(
    "args, error",
    [
        (["--requests", "0"], "--requests must be at least 1 (got 0)"),
        (["--messages-per-request", "-2"], "--messages-per-request must be at least 1 (got -2)"),
        (["--batch", "0"], "--batch must be at least 1 (got 0)"),
    ],
)
def test_bad_arguments_are_refused_saying_what_is_wrong(demo, args, error):
    with pytest.raises(CommandError, match=re.escape(error)):
        seed_bulk(*args)
    assert set(Ticket.objects.values_list("pk", flat=True)) == demo


def test_without_configuration_it_says_what_to_run_first():
    with pytest.raises(CommandError, match="run `manage.py seed_demo` first"):
        seed_bulk("--requests", "5")


def test_without_agents_it_says_what_to_run_first():
    QueueFactory()
    with pytest.raises(CommandError, match="No agents yet"):
        seed_bulk("--requests", "5")


@pytest.fixture
def third_batch_fails(monkeypatch):
    rows = BulkLoader.rows

    def fail_on_the_third_batch(self, plans):
        if self.counted[Ticket] >= 200:
            raise RuntimeError("disk full")
        return rows(self, plans)

    monkeypatch.setattr(BulkLoader, "rows", fail_on_the_third_batch)


def test_a_failed_load_leaves_no_rows_behind(demo, third_batch_fails):
    models = [Company, Contact, Ticket, Message, Attachment, Event, NumberCounter]
    before = [m.objects.count() for m in models]
    with pytest.raises(RuntimeError, match="disk full"):
        seed_bulk("--requests", "500", "--batch", "100")
    assert [m.objects.count() for m in models] == before


# PostgreSQL: triggers and constraints around COPY ------------------------------------------


def foreign_keys() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [LOADED_TABLES],
        )
        return set(cursor.fetchall())


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [LOADED_TABLES])
        return {definition for (definition,) in cursor.fetchall()}


def disabled_triggers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D' "
            "AND tgrelid = ANY(%s::regclass[])",
            [LOADED_TABLES],
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def refusing_trigger(postgres):
    """A user trigger that refuses every new message (a slow one would slow each)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_message() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the trigger ran'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_message BEFORE INSERT ON tickets_message "
            "FOR EACH ROW EXECUTE FUNCTION refuse_message()"
        )


def test_user_triggers_are_off_during_the_load_and_on_again_after_it(demo, refusing_trigger):
    seed_bulk("--requests", "100")
    assert Message.objects.exclude(ticket__in=demo).count() == 500
    assert disabled_triggers() == []
    with pytest.raises(Exception, match="the trigger ran"):
        workflow.add_note(Ticket.objects.latest("pk"), text="Still there?", by=None)


def test_a_failed_load_leaves_triggers_keys_and_indexes_as_they_were(
    demo, refusing_trigger, third_batch_fails
):
    before = (foreign_keys(), indexes())
    with pytest.raises(RuntimeError, match="disk full"):
        seed_bulk("--requests", "500", "--batch", "100")
    assert (foreign_keys(), indexes()) == before
    assert disabled_triggers() == []


@pytest.mark.parametrize(
    "requests, rebuilt",
    [(100, True), (20, False)],  # the demo has 50 requests
    ids=["large load: keys and indexes made anew", "small load: checked per row"],
)
def test_foreign_keys_and_indexes_are_checked_and_kept(
    demo, postgres, monkeypatch, requests, rebuilt
):
    before, dropped = (foreign_keys(), indexes()), []
    drop = CopyWriter.drop_foreign_keys_and_indexes
    monkeypatch.setattr(
        CopyWriter, "drop_foreign_keys_and_indexes", lambda w, t: dropped.append(t) or drop(w, t)
    )
    seed_bulk("--requests", str(requests))
    assert (foreign_keys(), indexes()) == before
    assert bool(dropped) == rebuilt
    rows = BulkLoader.rows

    def point_at_a_missing_contact(self, plans):
        made = rows(self, plans)
        made[Ticket][-1]["contact_id"] = 10**9
        return made

    monkeypatch.setattr(BulkLoader, "rows", point_at_a_missing_contact)
    with pytest.raises(IntegrityError, match="tickets_contact"):
        seed_bulk("--requests", str(requests))
    assert (foreign_keys(), indexes()) == before


def test_the_loader_says_which_requests_it_loaded(demo):
    loader = BulkLoader(rng=random.Random(3), messages_per_request=2)
    loader.load(40, batch=15)
    loader.finish()
    assert [len(ids) for ids in loader.ticket_ids] == [15, 15, 10]
    loaded = Ticket.objects.filter(pk__in=[pk for ids in loader.ticket_ids for pk in ids])
    assert set(loaded) == set(Ticket.objects.exclude(pk__in=demo))
    assert loader.counted[Message] == Message.objects.filter(ticket__in=loaded).count() == 80
    assert loader.counted[Event] == Event.objects.exclude(ticket__in=demo).count()


def test_loaded_requests_can_be_searched(loaded, postgres):
    output, tickets = loaded
    common, rare = sample_search_words()
    assert SearchDocument.objects.filter(ticket__in=tickets).count() == len(tickets)
    with_rare = Message.objects.filter(body_text__contains=rare).values("ticket")
    assert set(search.matching(Ticket.objects.all(), rare)) == set(
        Ticket.objects.filter(pk__in=with_rare)
    )
    assert search.matching(Ticket.objects.filter(pk__in=[t.pk for t in tickets]), common).exists()
