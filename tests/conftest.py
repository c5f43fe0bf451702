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


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def postgres():
    needs("PostgreSQL (DATABASE_URL=postgres://...)", is_postgres())


def pytest_sessionstart(session):
    if REQUIRE_SERVICES:
        if not is_postgres():
            raise pytest.UsageError("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        if not settings.REDIS_URL:
            raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL is not set")
