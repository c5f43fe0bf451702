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


# The tables the measured pages read.
READ_TABLES = ["tickets_ticket", "tickets_message", "tickets_searchdocument", "tickets_event"]


def vacuum_if_autovacuum_is_off() -> bool:
    """VACUUM (ANALYZE) what the pages read when the server runs without autovacuum (as
    this machine's does): otherwise the rows earlier runs changed stay unmarked in the
    visibility map, and index-only scans keep visiting them. Returns whether it ran."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return False
        for table in READ_TABLES:
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    return True


def size() -> str:
    return (
        f"{Ticket.objects.count():,} requests ({Ticket.objects.open().count():,} open), "
        f"{Message.objects.count():,} messages"
    )
