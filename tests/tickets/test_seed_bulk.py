from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import QueueFactory, TicketFactory
from tickets.models import Event, Message, NumberCounter, Status, Ticket

pytestmark = pytest.mark.django_db


def seed_bulk(*args):
    out = StringIO()
    call_command("seed_bulk", *args, stdout=out)
    return out.getvalue()


def test_it_loads_requests_with_their_messages_and_history_and_prints_the_rate():
    queue = QueueFactory(numbering_scheme="B-{seq}")
    TicketFactory(queue=queue)
    output = seed_bulk("--requests", "300", "--messages-per-request", "3", "--batch", "100")
    assert Ticket.objects.count() == 301
    assert Message.objects.count() == 1 + 300 * 3
    assert Event.objects.filter(action="created").count() == 301
    assert "seeded 300 requests and 900 messages" in output
    assert "requests/s" in output


def test_numbers_continue_the_queue_counter_without_gaps_or_duplicates():
    queue = QueueFactory(numbering_scheme="B-{seq}")
    TicketFactory(queue=queue)
    seed_bulk("--requests", "120", "--batch", "50")
    numbers = sorted(int(n[2:]) for n in Ticket.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 122))
    assert NumberCounter.objects.get(key="B-{seq}").last_value == 121
    assert TicketFactory(queue=queue).number == "B-122"


def test_statuses_stages_and_merges_are_consistent():
    QueueFactory()
    seed_bulk("--requests", "800", "--batch", "200")
    closed = Ticket.objects.filter(base_status=Status.Base.CLOSED)
    assert closed.exists()
    assert not closed.exclude(stage__state=2).exists()
    assert not Ticket.objects.open().filter(stage__state=2).exists()
    merged = Ticket.objects.filter(base_status=Status.Base.MERGED)
    assert merged.exists()
    assert not merged.filter(merged_into__isnull=True).exists()


def test_without_configuration_it_says_what_to_run_first():
    with pytest.raises(CommandError, match="seed_demo"):
        seed_bulk("--requests", "5")
