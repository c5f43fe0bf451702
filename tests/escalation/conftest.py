import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import factory
import pytest

from tests.factories import PriorityFactory, QueuePriorityTimeFactory, UserFactory
from tickets.models import BusinessCalendar, EscalationLevel, Holiday, OpeningHours

# A Monday, 09:00 UTC: tests move time by adding to it, never by sleeping.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class EscalationLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationLevel

    priority = factory.SubFactory(PriorityFactory, name="Medium", rank=2)
    alert_level = factory.Sequence(lambda n: n + 1)
    minutes = 30
    action = EscalationLevel.Action.NOTIFY_OWNER


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    """Open 09:00–17:00 Monday to Friday in Oslo."""

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Office hours {n}")
    time_zone = "Europe/Oslo"

    @factory.post_generation
    def hours(calendar, create, extracted, **kwargs):
        if create:
            for weekday, opens, closes in extracted or office_hours():
                OpeningHours.objects.create(
                    calendar=calendar, weekday=weekday, opens=opens, closes=closes
                )


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory)
    name = "Holiday"


def office_hours(opens="09:00", closes="17:00", days=range(5)):
    from datetime import time

    return [(day, time.fromisoformat(opens), time.fromisoformat(closes)) for day in days]


@pytest.fixture
def medium(queue):
    """The queue's default priority, with alert and completion times."""
    QueuePriorityTimeFactory(queue=queue, priority=queue.default_priority)
    return queue.default_priority


@pytest.fixture
def chain(medium):
    """Three levels: notify the owner after 30 min, mark unread 60 min later, then raise
    the priority to High 120 min after that."""
    high = PriorityFactory(name="High", rank=3)
    return [
        EscalationLevelFactory(priority=medium, alert_level=1, minutes=30),
        EscalationLevelFactory(
            priority=medium,
            alert_level=2,
            minutes=60,
            action=EscalationLevel.Action.MARK_UNREAD,
        ),
        EscalationLevelFactory(
            priority=medium,
            alert_level=3,
            minutes=120,
            action=EscalationLevel.Action.RAISE_PRIORITY,
            raise_to=high,
        ),
    ]


@pytest.fixture
def colleague(queue):
    user = UserFactory(username="bob", first_name="Bob", email="bob@helpdesk.test")
    queue.members.add(user)
    return user


class Receiver(BaseHTTPRequestHandler):
    """Answers POSTs as the server's `answer` says: a status code, or "hang"."""

    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.received.append((dict(self.headers), body))
        if server.answer == "hang":
            server.release.wait(timeout=10)
            return
        self.send_response(server.answer)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A webhook receiver on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    server.answer = 200
    server.received = []
    server.release = threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def wait_for(condition, timeout=20.0):
    """Poll for something a separate worker does; the test's clock is not involved."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
