import email
import os
import socket
import time
from email import policy

import pytest
from django.conf import settings

# REQUIRE_SERVICES=1 (CI) turns "this test needs PostgreSQL/Redis" from a skip into a
# failure, so a missing service can never pass unnoticed.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def needs(service: str, available: bool) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required (REQUIRE_SERVICES=1) but not configured")
    pytest.skip(f"needs {service}")


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


# On PostgreSQL a request's lookup by number (tickets.access.get_ticket_for_agent) plans
# its joins as written: a savepoint and a SET LOCAL, two statements more on every page
# and API call about one request.
LOOKUP_QUERIES = 2 if is_postgres() else 0


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """The real hasher takes a third of a second per password by design; tests make
    hundreds of users."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline():
    """Tasks enqueued on commit run in the test's own process; tests that need a real
    worker on Redis start one themselves."""
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _sms_in_memory(settings):
    """SMS go to sms.backends.sent, as Django's test runner puts mail in mail.outbox."""
    from sms import backends

    settings.SMS_BACKEND = "sms.backends.LocmemBackend"
    backends.sent.clear()


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache holds rate limits; one test's failed sign-ins must not lock out the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def postgres():
    needs("PostgreSQL (DATABASE_URL=postgres://...)", is_postgres())


def pytest_sessionstart(session):
    if REQUIRE_SERVICES:
        if not is_postgres():
            raise pytest.UsageError("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        if not settings.REDIS_URL:
            raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL is not set")


@pytest.fixture
def agent(db):
    from tests.factories import UserFactory

    return UserFactory(first_name="Alice", last_name="Agent")


@pytest.fixture
def queue(agent):
    """A queue the `agent` is a member of."""
    from tests.factories import QueueFactory

    queue = QueueFactory(name="Support", stages=["Triage", "Investigating"])
    queue.members.add(agent)
    return queue


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def portal_queue(agent):
    """A queue open to the portal that the `agent` works."""
    from tests.factories import PriorityRuleFactory, QueueFactory

    PriorityRuleFactory()
    queue = QueueFactory(name="Help", stages=["Triage", "Investigating"], is_open_to_portal=True)
    queue.members.add(agent)
    return queue


@pytest.fixture
def customer(db):
    """A contact with a portal login."""
    from tests.factories import PortalContactFactory

    return PortalContactFactory(name="Carla Customer", email="carla@example.test")


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer.user)
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Keeps every message the SMTP server is given. `stop()` takes the server away (a
    send is refused), `start()` brings it back on the same port."""

    def __init__(self, port: int):
        self.port = port
        self.envelopes = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on a free loopback port; Django's SMTP backend sends to it."""
    sink = Sink(free_port())
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block left for after the commit (the domain
    events' subscribers, the outbox's sends) at its end, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
