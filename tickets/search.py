"""Full-text search over requests: their number, subject and messages.

On PostgreSQL each request has a SearchDocument (a tsvector kept current by triggers,
see migration 0008) behind a GIN index; words are stemmed (English) and accents folded.
What people type:

    printer jam          both words, anywhere in the request
    "paper jam"          the words next to each other
    print*               words starting with "print"
    printer OR scanner   either word
    -toner               not this word

Matches are ranked, subject before messages, among the newest RANKED_LIMIT matches:
ranking every match of a common word in millions of requests would take seconds, and
in a helpdesk the newest of them are the ones people look for.

On SQLite, the embedded default, search falls back to matching each word as a
substring of the subject or a message (OR and exclusion still apply), newest first,
with no snippets.
"""

import html
import re
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from tickets.models import Message, Ticket

CONFIG = "helpdesk"
RANKED_LIMIT = 1000
MAX_TERMS = 16
# What people type is read up to here: one quoted phrase of thousands of words would
# otherwise become a query of thousands of positions.
MAX_QUERY_LENGTH = 200
# Made by migration 0008; a big rebuild drops it and makes it again.
GIN_INDEX = "search_document_gin"

# A term: an optional "-", then a "quoted phrase" (closing quote optional) or a word.
TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')

# ts_headline marks matches with these; they are turned into <mark> after escaping.
START, STOP = "\x02", "\x03"
HEADLINE = f"StartSel={START}, StopSel={STOP}"
SNIPPET = f"{HEADLINE}, MaxFragments=2, MaxWords=16, MinWords=6, FragmentDelimiter=\u2009…\u2009"


def full_text() -> bool:
    return connection.vendor == "postgresql"


def _quoted(text: str) -> str:
    # A quoted tsquery operand: PostgreSQL's parser splits it into words (a phrase) and
    # stems them; nothing inside it can act as an operator.
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class Term(NamedTuple):
    """One thing to look for: alternatives (words or phrases, OR), or one excluded."""

    words: list[tuple[str, bool]]  # (word or phrase, is a prefix)
    excluded: bool = False


def terms(text: str) -> list[Term]:
    """What someone typed, as terms that must all hold (AND)."""
    found: list[Term] = []
    join_next = False
    for minus, phrase, word in TERM.findall(text[:MAX_QUERY_LENGTH])[: MAX_TERMS * 2]:
        if word.upper() == "OR" and found:
            join_next = True
            continue
        excluded = bool(minus) or word.startswith("-")
        word = word.lstrip("-")
        if phrase.strip():
            looked_for = (phrase, False)
        elif word.rstrip("*"):
            looked_for = (word.rstrip("*"), word.endswith("*"))
        else:
            continue
        if excluded:
            found.append(Term([looked_for], excluded=True))
        elif join_next and not found[-1].excluded:
            found[-1].words.append(looked_for)
        else:
            found.append(Term([looked_for]))
        join_next = False
    return found[:MAX_TERMS]


def _operand(looked_for: tuple[str, bool]) -> str:
    text, prefix = looked_for
    return _quoted(text) + (":*" if prefix else "")


def tsquery(text: str) -> str:
    """The to_tsquery() text for what someone typed; "" when it has no word to look for
    (a query of only excluded words would list nearly every request)."""
    found = terms(text)
    if all(term.excluded for term in found):
        return ""
    parts = []
    for term in found:
        operands = [_operand(looked_for) for looked_for in term.words]
        if term.excluded:
            parts.append(f"!{operands[0]}")
        else:
            parts.append(f"({' | '.join(operands)})" if len(operands) > 1 else operands[0])
    return " & ".join(parts)


def _any_word(text: str) -> str:
    """Any one of the wanted words or phrases: to pick a message worth quoting."""
    return " | ".join(
        _operand(looked_for)
        for term in terms(text)
        if not term.excluded
        for looked_for in term.words
    )


def _search_query(text: str) -> SearchQuery:
    return SearchQuery(tsquery(text), search_type="raw", config=CONFIG)


def matching(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """The requests of `tickets` that hold what `text` asks for."""
    if not tsquery(text):
        return tickets.none()
    if full_text():
        return tickets.filter(search_document__document=_search_query(text))
    return _containing_words(tickets, text)


def _containing_words(
    tickets: QuerySet[Ticket], text: str, *, public_only: bool = False
) -> QuerySet[Ticket]:
    """The fallback off PostgreSQL: each term's words as substrings of the subject or a
    message, or as the number; OR and exclusion as in full-text search."""
    messages = Message.objects.filter(ticket=OuterRef("pk"))
    if public_only:
        messages = messages.for_customer()
    for term in terms(text):
        holds = Q()
        for word, _ in term.words:
            in_messages = messages.filter(body_text__icontains=word)
            holds |= Q(subject__icontains=word) | Q(number__iexact=word) | Exists(in_messages)
        tickets = tickets.exclude(holds) if term.excluded else tickets.filter(holds)
    return tickets


def ranked(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """`tickets` (already matching `text`) best first, ranked among the newest
    RANKED_LIMIT of them."""
    if not full_text():
        return tickets.order_by("-created_at", "-pk")
    newest = tickets.order_by("-created_at", "-pk").values("pk")[:RANKED_LIMIT]
    return (
        Ticket.objects.filter(pk__in=newest)
        .alias(rank=SearchRank(F("search_document__document"), _search_query(text)))
        .order_by("-rank", "-created_at", "-pk")
    )


def public_matching(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Like matching(), but only what a customer may read counts: the subject and the
    public messages. For the portal, whose lists are one customer's or company's: each
    of their requests is looked up in the index, and only those that match have their
    public text checked (CASE fixes that order; left to itself PostgreSQL checked the
    public text of every request of the customer first)."""
    if not tsquery(text):
        return tickets.none()
    if not full_text():
        return _containing_words(tickets, text, public_only=True)
    query = "to_tsquery(%s::regconfig, %s)"
    # Only constants are written into the SQL; the search text is a parameter.
    publicly_matching = RawSQL(  # nosec
        f"""CASE WHEN (SELECT d.document FROM tickets_searchdocument d
                       WHERE d.ticket_id = tickets_ticket.id) @@ {query}
            THEN tickets_vector_append(
                tickets_subject_vector(tickets_ticket.number, tickets_ticket.subject),
                coalesce((SELECT tickets_vector_agg(tickets_message_vector(m.body_text))
                          FROM tickets_message m
                          WHERE m.ticket_id = tickets_ticket.id {_PUBLIC}), '')) @@ {query}
            ELSE false END""",  # nosec
        [CONFIG, tsquery(text)] * 2,
        output_field=BooleanField(),
    )
    return tickets.alias(publicly_matching=publicly_matching).filter(publicly_matching=True)


# Message.objects.for_customer() in SQL, for the queries written by hand here.
_PUBLIC = "AND m.is_public AND NOT m.is_external"


def add_snippets(tickets: list[Ticket], text: str, *, public_only: bool = False) -> None:
    """Sets `search_subject` (the subject, matches marked) and `search_snippet` (the best
    passage of the message holding most of the words, the newest of equals) on each of
    `tickets`, as safe HTML. Only on PostgreSQL; one query for the whole page."""
    query = tsquery(text)
    if not tickets or not query or not full_text():
        return
    # Only the constant _PUBLIC is written into the SQL; the rest are parameters.
    sql = f"""
        SELECT t.id, ts_headline(%(config)s::regconfig, t.subject, q.any_word,
                                 %(highlight)s),
               (SELECT ts_headline(%(config)s::regconfig, left(m.body_text, 20000),
                                   q.any_word, %(snippet)s)
                FROM tickets_message m
                WHERE m.ticket_id = t.id {_PUBLIC if public_only else ""}
                  AND tickets_message_vector(m.body_text) @@ q.any_word
                ORDER BY ts_rank(tickets_message_vector(m.body_text), q.any_word) DESC,
                         m.created_at DESC, m.id DESC
                LIMIT 1)
        FROM tickets_ticket t,
             (SELECT to_tsquery(%(config)s::regconfig, %(any_word)s) AS any_word) q
        WHERE t.id = ANY(%(ids)s)
    """  # nosec
    params = {
        "config": CONFIG,
        "highlight": f"{HEADLINE}, HighlightAll=true",
        "snippet": SNIPPET,
        # A message holding any of the words: one holding all of them may not exist.
        "any_word": _any_word(text),
        "ids": [t.pk for t in tickets],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {pk: (subject, snippet) for pk, subject, snippet in cursor.fetchall()}
    for ticket in tickets:
        subject, snippet = found.get(ticket.pk, (None, None))
        ticket.search_subject = marked(subject) if subject else None
        ticket.search_snippet = marked(snippet) if snippet else None


def marked(headline: str) -> str:
    """ts_headline's output as safe HTML: everything escaped, matches in <mark>. The
    marks are balanced whatever the text held, even stray marker characters."""
    out, inside = [], False
    for part in re.split(f"([{START}{STOP}])", headline):
        if part == START and not inside:
            out.append("<mark>")
            inside = True
        elif part == STOP and inside:
            out.append("</mark>")
            inside = False
        elif part not in (START, STOP):
            out.append(html.escape(part))
    if inside:
        out.append("</mark>")
    return "".join(out)


def rebuild_search_documents(*, first_id: int = 0, chunk: int = 10_000, workers: int = 2) -> int:
    """Makes the search documents of the requests from `first_id` on anew (after a bulk
    load that bypassed the triggers). Returns how many were written; 0 off PostgreSQL.

    Outside a transaction the chunks run on `workers` connections at once; a big rebuild
    drops the GIN index and builds it again at the end, much faster than updating it row
    by row."""
    if not full_text():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM tickets_ticket WHERE id >= %s",
            [first_id],
        )
        first, last = cursor.fetchone()
    starts = range(first, last + 1, chunk)
    if not starts:
        return 0
    if connection.in_atomic_block:
        # Other connections could not see this transaction's rows.
        return sum(_rebuild_chunk(start, chunk) for start in starts)
    big = len(starts) > 10
    if big:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        written = sum(
            pool.map(lambda start: _in_own_connection(_rebuild_chunk, start, chunk), starts)
        )
    if big:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} "
                "ON tickets_searchdocument USING gin (document)"
            )
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("ANALYZE tickets_searchdocument")
    return written


def _rebuild_chunk(start: int, chunk: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tickets_search_rebuild(%s, %s)", [start, start + chunk - 1])
        return cursor.fetchone()[0]


def _in_own_connection(function, *args):
    """Runs `function` in this thread's own database connection, closed afterwards."""
    try:
        return function(*args)
    finally:
        connection.close()
