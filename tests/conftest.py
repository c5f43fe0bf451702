import os

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
