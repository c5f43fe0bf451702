"""The benchmark's database: made if missing, migrated, and filled to the size asked for.

A second run finds the data there and measures again without reseeding.
"""

import psycopg
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from tickets.models import Message, Queue, Ticket


def create_database_if_missing() -> bool:
    """PostgreSQL only (SQLite makes its file itself); returns whether it was made."""
    if connection.vendor != "postgresql":
        return False
    db = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    ) as server:
        if server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            return False
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
        return True


def fill(*, requests: int, messages_per_request: int, stdout) -> int:
    """Migrate, load the demo configuration into an empty database, and bulk-load the
    requests that are missing to reach `requests`; returns how many were loaded."""
    call_command("migrate", interactive=False, verbosity=0)
    if not Queue.objects.exists():
        call_command("seed_demo", stdout=stdout)
    missing = requests - Ticket.objects.count()
    if missing > 0:
        call_command(
            "seed_bulk",
            "--requests",
            str(missing),
            "--messages-per-request",
            str(messages_per_request),
            stdout=stdout,
        )
    return max(missing, 0)


def size() -> str:
    return (
        f"{Ticket.objects.count():,} requests ({Ticket.objects.open().count():,} open), "
        f"{Message.objects.count():,} messages"
    )
