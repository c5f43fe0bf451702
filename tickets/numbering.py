"""The gapless counter behind request numbers.

A scheme such as ``REQ-{year}-{seq:06}`` is rendered with everything but ``{seq}`` to
get its counter's key (``REQ-2026-{seq:06}``), so a new year starts a new sequence and
two queues sharing a scheme share its counter. The counter row is incremented by a single
upsert inside the caller's transaction: concurrent creators queue on that one row (and
nothing else), and a rolled-back creation gives its number back, so there are no gaps.
"""

import string
from datetime import datetime

from django.db import connection

from tickets.models import NumberCounter

FIELDS = {"year", "month", "seq"}


def validate_scheme(scheme: str) -> None:
    """Raise ValueError with a readable message when the scheme cannot number requests."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(scheme) if name is not None]
    except ValueError as error:
        raise ValueError(f"Unbalanced braces in the scheme: {error}") from error
    unknown = set(names) - FIELDS
    if unknown:
        raise ValueError(
            f"Unknown field {{{sorted(unknown)[0]}}}; use {{year}}, {{month}}, {{seq}}."
        )
    if names.count("seq") != 1:
        raise ValueError("The scheme needs exactly one {seq}, e.g. REQ-{year}-{seq:06}.")
    try:
        scheme.format(year=2000, month=1, seq=1)
    except (ValueError, KeyError) as error:
        raise ValueError(f"The scheme cannot be formatted: {error}") from error


def counter_key(scheme: str, now: datetime) -> str:
    """The scheme with its period filled in and its {seq} field left as written."""
    period = {"year": f"{now:%Y}", "month": f"{now:%m}"}
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(scheme):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if name == "seq":
            parts.append(
                "{seq"
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
        elif name is not None:
            parts.append(format(period[name], spec))
    return "".join(parts)


def next_number(scheme: str, now: datetime) -> str:
    """Take the next number of the scheme's current period. Call inside a transaction."""
    return next_numbers(scheme, now, 1)[0]


def next_numbers(scheme: str, now: datetime, count: int) -> list[str]:
    """Take `count` consecutive numbers at once (bulk loading). Call inside a transaction."""
    key = counter_key(scheme, now)
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    key_column = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        # Quoted identifiers of our own; the values are parameters.
        cursor.execute(
            f"INSERT INTO {table} ({key_column}, last_value) VALUES (%s, %s) "  # nosec
            f"ON CONFLICT ({key_column}) DO UPDATE SET last_value = {table}.last_value + %s "
            "RETURNING last_value",
            [key, count, count],
        )
        (last,) = cursor.fetchone()
    return [key.format(seq=value) for value in range(last - count + 1, last + 1)]
