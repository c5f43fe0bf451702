import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from tests.factories import ContactFactory, QueueFactory, TicketFactory
from tickets import workflow
from tickets.models import Channel, NumberCounter, Queue, Ticket
from tickets.numbering import counter_key, next_number, validate_scheme

UTC = ZoneInfo("UTC")
NEW_YEAR = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
OLD_YEAR = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "scheme, error",
    [
        ("REQ-{seq:06}", None),
        ("REQ-{year}{month}-{seq}", None),
        ("REQ-{year}", "exactly one {seq}"),
        ("REQ-{seq}-{seq}", "exactly one {seq}"),
        ("REQ-{team}-{seq}", "Unknown field {team}"),
        ("REQ-{seq", "braces"),
        ("REQ-{seq:x}-{year}", None),
        ("REQ-{seq:q}", "cannot be formatted"),
    ],
)
def test_validate_scheme(scheme, error):
    if error is None:
        validate_scheme(scheme)
    else:
        with pytest.raises(ValueError, match=error):
            validate_scheme(scheme)


def test_the_counter_key_keeps_seq_and_fills_the_period():
    assert counter_key("REQ-{year}-{seq:06}", NEW_YEAR) == "REQ-2027-{seq:06}"


@pytest.mark.django_db
def test_a_new_year_starts_a_new_sequence():
    scheme = "REQ-{year}-{seq:04}"
    assert next_number(scheme, OLD_YEAR) == "REQ-2026-0001"
    assert next_number(scheme, OLD_YEAR) == "REQ-2026-0002"
    assert next_number(scheme, NEW_YEAR) == "REQ-2027-0001"


@pytest.mark.django_db
def test_queues_sharing_a_scheme_share_its_counter():
    first = QueueFactory(numbering_scheme="HD-{seq}")
    second = QueueFactory(numbering_scheme="HD-{seq}")
    numbers = [TicketFactory(queue=q).number for q in (first, second, first)]
    assert numbers == ["HD-1", "HD-2", "HD-3"]


@pytest.mark.django_db
def test_a_failed_creation_gives_its_number_back():
    queue = QueueFactory(numbering_scheme="GAP-{seq}")
    TicketFactory(queue=queue)
    with pytest.raises(workflow.WorkflowError):
        TicketFactory(queue=queue, contact=None)  # refused after nothing was numbered
    with pytest.raises(RuntimeError), transaction.atomic():
        TicketFactory(queue=queue)
        raise RuntimeError("crash after numbering")
    assert TicketFactory(queue=queue).number == "GAP-2"


@pytest.mark.django_db
def test_an_invalid_scheme_is_a_form_error_on_the_queue():
    queue = Queue(name="Broken", numbering_scheme="X-{year}")
    with pytest.raises(Exception, match="exactly one"):
        queue.full_clean()


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_hands_out_a_number_twice(postgres):
    """Eight threads, each its own connection, create requests at once on PostgreSQL."""
    queue = QueueFactory(numbering_scheme="CC-{seq:05}")
    contact = ContactFactory()
    threads, per_thread, errors = 8, 15, []
    start = threading.Barrier(threads)

    def create_many():
        try:
            start.wait()
            for _ in range(per_thread):
                workflow.create_ticket(
                    queue=queue,
                    subject="Busy day",
                    contact=contact,
                    by=None,
                    channel=Channel.EMAIL,
                )
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=create_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    numbers = sorted(Ticket.objects.filter(queue=queue).values_list("number", flat=True))
    assert numbers == [f"CC-{n:05}" for n in range(1, threads * per_thread + 1)]
    assert NumberCounter.objects.get(key="CC-{seq:05}").last_value == threads * per_thread


@pytest.mark.django_db(transaction=True)
def test_numbering_locks_only_its_own_counter(postgres):
    """While one transaction holds scheme A's counter, scheme B still numbers at once."""
    first, other = (
        QueueFactory(numbering_scheme="LA-{seq}"),
        QueueFactory(numbering_scheme="LB-{seq}"),
    )
    TicketFactory(queue=first), TicketFactory(queue=other)
    holding, done = threading.Event(), threading.Event()
    result = {}

    def hold_counter_a():
        with transaction.atomic():
            next_number(first.numbering_scheme, OLD_YEAR)
            holding.set()
            done.wait(timeout=10)
        connection.close()

    def number_b():
        holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        result["number"] = TicketFactory(queue=other).number
        connection.close()

    holder, worker = threading.Thread(target=hold_counter_a), threading.Thread(target=number_b)
    holder.start(), worker.start()
    worker.join(timeout=15)
    done.set()
    holder.join(timeout=15)
    assert result == {"number": "LB-2"}
