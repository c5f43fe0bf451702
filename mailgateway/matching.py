"""Threading: which request an incoming mail belongs to, and as whose message.

In order: a bounce goes to the request of the mail that bounced; then a request number in
the subject (any queue's numbering scheme); then In-Reply-To and References against the
Message-IDs the helpdesk stored. A mail answering something the helpdesk forwarded to an
outside party is that party's answer.
"""

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from mailgateway.parse import ParsedMail
from tickets.models import Message, Queue, Ticket


@dataclass
class Match:
    ticket: Ticket
    external: bool = False
    bounce: bool = False
    how: str = ""


def scheme_pattern(scheme: str) -> str:
    """A numbering scheme as a regular expression: REQ-{year}-{seq:06} → REQ-\\d{4}-\\d+."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(scheme):
        parts.append(re.escape(literal))
        if name == "year":
            parts.append(r"\d{4}")
        elif name == "month":
            parts.append(r"\d{2}")
        elif name == "seq":
            parts.append(r"\d+")
    return "".join(parts)


@lru_cache(maxsize=32)
def _number_regex(schemes: tuple[str, ...]) -> re.Pattern | None:
    patterns = []
    for scheme in schemes:
        try:
            patterns.append(scheme_pattern(scheme))
        except ValueError:
            continue  # an unparseable scheme numbers nothing, so it matches nothing
    if not patterns:
        return None
    alternatives = "|".join(sorted(patterns, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?!\d)")


def number_regex() -> re.Pattern | None:
    """One pattern for the request numbers of every queue's scheme."""
    schemes = tuple(sorted(set(Queue.objects.values_list("numbering_scheme", flat=True))))
    return _number_regex(schemes)


# What threading and appending read of the request found: its contact (whose reply it
# is) and its owner (who is told).
_READ = ("contact", "owner")


def find_by_number(subject: str, pattern: re.Pattern | None) -> Ticket | None:
    numbers = [m.group(0) for m in pattern.finditer(subject)] if pattern and subject else []
    if not numbers:
        return None
    found = {t.number: t for t in Ticket.objects.filter(number__in=numbers).select_related(*_READ)}
    return next((found[n] for n in numbers if n in found), None)


def find_by_message_ids(message_ids: list[str]) -> Message | None:
    """The stored message that the latest of these ids names."""
    ids = [i for i in dict.fromkeys(message_ids) if i]
    if not ids:
        return None
    messages = {
        m.message_id: m
        for m in Message.objects.filter(message_id__in=ids).select_related(
            *(f"ticket__{relation}" for relation in _READ)
        )
    }
    for message_id in ids:
        if message_id in messages:
            return messages[message_id]
    return None


def _forwarded_to(ticket: Ticket) -> set[str]:
    """The outside parties the request was forwarded to."""
    addresses = set()
    for to in ticket.messages.filter(
        is_external=True, direction=Message.Direction.OUTBOUND
    ).values_list("to", flat=True):
        addresses.update(a.strip().lower() for a in to.replace(";", ",").split(",") if a.strip())
    return addresses


def find_request(mail: ParsedMail, numbers: re.Pattern | None) -> Match | None:
    """The request this mail belongs to; `numbers` is number_regex()'s pattern."""
    if mail.bounced_message_id:
        bounced = find_by_message_ids([mail.bounced_message_id])
        if bounced is not None:
            return Match(bounced.ticket, bounce=True, how="bounce of a stored message")
    answered = find_by_message_ids([mail.in_reply_to, *reversed(mail.references)])
    ticket = find_by_number(mail.subject, numbers)
    how = "request number in the subject"
    if ticket is None and answered is not None:
        ticket, how = answered.ticket, "In-Reply-To/References"
    if ticket is None:
        return None
    sender = mail.from_address.lower()
    contact_email = ticket.contact.email.lower() if ticket.contact else ""
    external = (
        answered is not None and answered.ticket_id == ticket.pk and answered.is_external
    ) or (sender != contact_email and sender in _forwarded_to(ticket))
    return Match(ticket, external=external, how=how)
