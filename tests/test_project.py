import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import needs

ROOT = Path(__file__).resolve().parent.parent


def settings_under(env: dict, tmp_path) -> dict:
    """Import the settings in a fresh interpreter with only the given environment."""
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
        " 'options': db.get('OPTIONS', {}), 'broker': settings.CELERY_BROKER_URL,"
        " 'email': settings.OUTBOX_BACKEND, 'outbox': settings.EMAIL_BACKEND,"
        " 'debug': settings.DEBUG}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update(DJANGO_SETTINGS_MODULE="helpdesk.settings", VAR_DIR=str(tmp_path), **env)
    output = subprocess.run(
        [sys.executable, "-c", script],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout)


def test_the_default_needs_no_services(tmp_path):
    found = settings_under({}, tmp_path)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "helpdesk.sqlite3")
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["options"]["timeout"] >= 5
    assert found["broker"] == "filesystem://"
    assert found["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert found["outbox"] == "mailgateway.outbox.OutboxBackend"  # every mail is kept first


def test_services_come_from_the_environment(tmp_path):
    found = settings_under(
        {
            "DATABASE_URL": "postgres://helpdesk@db.internal:5432/helpdesk",
            "REDIS_URL": "redis://cache.internal:6379/1",
            "EMAIL_URL": "smtp://mailer:secret@smtp.internal:587",
            "DEBUG": "0",
            "SECRET_KEY": "a-key-of-its-own",
        },
        tmp_path,
    )
    assert (found["engine"], found["name"]) == ("django.db.backends.postgresql", "helpdesk")
    assert found["broker"] == "redis://cache.internal:6379/1"
    assert found["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert found["debug"] is False


@pytest.mark.django_db
def test_system_checks_pass():
    call_command("check", fail_level="WARNING", stdout=StringIO())


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_celery_reaches_its_broker():
    needs("Redis (REDIS_URL=redis://...)", bool(settings.REDIS_URL))
    from helpdesk.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.transport_cls == "redis"
