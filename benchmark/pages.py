"""Server time and query count of the desk's and the portal's pages, and of the API's.

Each page is handled in-process by Django's test client (view, queries and template
rendering, no network) with DEBUG off, as in production, after a few warm-up runs.
"""

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import tokens
from benchmark.bulk import sample_search_words
from reports.tables import REPORTS
from tickets import search, workflow
from tickets.access import visible_tickets
from tickets.models import Contact, Message, Priority, Queue, Ticket

BENCH_AGENT = "bench-agent"
BENCH_CONTACT_LOGIN = "bench-portal"
LONG_REQUEST_SUBJECT = "Benchmark: a long conversation"
# The benchmark's token calls more often than a token may (API_RATE_LIMIT): its limit is
# lifted, the counting kept, so the throttle's cache round trips stay in the figures.
UNTHROTTLED = "1000000/second"


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    queries: int


def measure(client: Client, url: str, *, runs: int, warmup: int) -> Timing:
    """Median and 95th percentile of `runs` GETs of `url`, and the queries of one."""
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        times, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            queries = len(captured)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Timing(statistics.median(times), p95, queries)


def client_for(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


@contextmanager
def api_token(user: AbstractBaseUser) -> Iterator[str]:
    """A personal API token of `user`, not refused for calling too often here, deleted
    afterwards: runs leave no tokens behind."""
    issued = tokens.issue(user, name="benchmark")
    try:
        with override_settings(API_RATE_LIMIT=UNTHROTTLED):
            yield issued.plaintext
    finally:
        issued.token.delete()


def api_client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def bench_agent() -> AbstractBaseUser:
    """An agent (not staff) who works every queue, like a busy team lead."""
    agent, _ = get_user_model().objects.get_or_create(
        username=BENCH_AGENT, defaults={"first_name": "Bench", "last_name": "Agent"}
    )
    for queue in Queue.objects.all():
        queue.members.add(agent)
    return agent


def desk_pages(agent: AbstractBaseUser) -> dict[str, str]:
    """The agents' pages without search, by the name the table shows."""
    highest = Priority.objects.order_by("-rank")[0].pk
    return {
        "default list": "/desk/requests/",
        "filtered + sorted list": f"/desk/requests/?open=1&priority={highest}&sort=-deadline",
        "request page, 5 messages": f"/desk/requests/{typical_request().number}/",
        "request page, 50 messages": f"/desk/requests/{long_request(agent).number}/",
        "dashboard": "/desk/dashboard/",
    }


API_LIST = "/api/v1/requests/"


def api_pages(client: Client) -> dict[str, str]:
    """The API's reads by the name the table shows; the next page and the request are
    those the first page points at."""
    highest = Priority.objects.order_by("-rank")[0].pk
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        first = client.get(API_LIST).json()
    if not first["results"]:
        raise CommandError("The API lists no request for the bench agent: seed the data first.")
    urls = {
        "API: request list": API_LIST,
        "API: request list, filtered": f"{API_LIST}?open=1&priority={highest}",
    }
    if first["next"]:
        parts = urlsplit(first["next"])
        urls["API: the next cursor page"] = f"{parts.path}?{parts.query}"
    urls["API: one request"] = f"{API_LIST}{first['results'][0]['number']}/"
    return urls


def search_page(word: str) -> str:
    return f"/desk/requests/?{urlencode({'q': word})}"


def typical_request() -> Ticket:
    """A request as the bulk load makes them: five messages (the issue's request page)."""
    recent = Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:300]
    found = (
        Ticket.objects.filter(pk__in=list(recent))
        .annotate(messages_count=Count("messages"))
        .filter(messages_count=5)
        .order_by("pk")
        .first()
    )
    if found is None:
        raise CommandError("No recent request has five messages: bulk-load the data first.")
    return found


def long_request(agent: AbstractBaseUser) -> Ticket:
    """A request with 50 messages, made once and reused."""
    found = Ticket.objects.filter(subject=LONG_REQUEST_SUBJECT).order_by("pk").first()
    if found:
        return found
    ticket = workflow.create_ticket(
        queue=Queue.objects.order_by("pk").first(),
        subject=LONG_REQUEST_SUBJECT,
        contact=Contact.objects.order_by("pk").first(),
        by=None,
        body="The first message.",
    )
    for n in range(49):
        if n % 3 == 2:
            workflow.add_note(ticket, text=f"Internal note {n}", by=agent)
        else:
            workflow.add_message(
                ticket,
                by=agent if n % 3 else None,
                contact=None if n % 3 else ticket.contact,
                kind=Message.Kind.EMAIL,
                direction=Message.Direction.OUTBOUND if n % 3 else Message.Direction.INBOUND,
                body_text=f"Message {n}: " + "Some words about the problem. " * 20,
                now=timezone.now(),
            )
    return ticket


def portal_contact() -> Contact:
    """The contact with a company who has the most requests, with a portal login and
    allowed to follow the company's requests: the portal's longest lists."""
    busiest = (
        Ticket.objects.filter(contact__company__isnull=False)
        .values("contact")
        .annotate(requests=Count("pk"))
        .order_by("-requests", "contact")
        .first()
    )
    if busiest is None:
        raise CommandError("No request has a contact with a company: seed the data first.")
    contact = Contact.objects.select_related("user").get(pk=busiest["contact"])
    if contact.user is None:
        contact.user = get_user_model().objects.create(
            username=f"{BENCH_CONTACT_LOGIN}-{contact.pk}", email=contact.email
        )
    contact.can_see_company_requests = True
    contact.save(update_fields=["user", "can_see_company_requests"])
    return contact


PORTAL_PAGES = {
    "portal: own requests": "/portal/requests/",
    "portal: company's requests": "/portal/requests/company/",
}


def requests_matching(agent: AbstractBaseUser, word: str) -> int:
    """How many of the requests the agent sees hold `word` (all of them, where the list
    ranks only the newest 1,000)."""
    return search.matching(visible_tickets(agent), word).count()


def search_words(common: str | None, rare: str | None) -> tuple[str, str]:
    """The words to search for: those given, else a common word and a rare token that
    seed_bulk's data really holds."""
    sampled_common, sampled_rare = sample_search_words()
    common, rare = common or sampled_common, rare or sampled_rare
    if not (common and rare):
        raise CommandError(
            "No words to search for in this data: pass --common-word and --rare-word."
        )
    return common, rare


def report_reader(agent: AbstractBaseUser) -> AbstractBaseUser:
    """The bench agent, allowed to read the reports."""
    agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return get_user_model().objects.get(pk=agent.pk)  # its permissions read afresh


def report_pages() -> dict[str, str]:
    """Every report over the last year, by the name the table shows."""
    today = timezone.localdate()
    year = urlencode({"start": today - timedelta(days=364), "end": today})
    return {
        f"report: {label} (a year)": f"/desk/reports/{name}/?{year}"
        for name, (label, _) in REPORTS.items()
    } | {"report: insights per week (a year)": f"/desk/reports/insights/?{year}&by=week"}
