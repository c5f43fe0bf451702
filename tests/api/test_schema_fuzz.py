"""Schemathesis walks the API's own OpenAPI schema, in process through the WSGI app, with
a token: no answer may be a server error, and every answer must be what the schema
promises (a documented status code, its content type and headers, a body of its schema).
Every operation the schema lists is a test, the writes as much as the reads."""

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import tokens
from helpdesk.wsgi import application
from tests.factories import ContactFactory, PortalContactFactory, QueueFactory, TicketFactory

# The agent's three requests (the first the customer's own), and one in a queue the agent
# is not in (a 404 to both).
MINE = ["FUZZ-00001", "FUZZ-00002", "FUZZ-00003"]
ELSEWHERE = "ELSE-00001"
# The id of the queue, the customer and their company, so an id sent can name a real row.
ROW = 7001

# Half the numbers and ids sent name the rows above: a random one is only ever a 404 or a
# 400, and the writes would never get past them. The coverage phase (every boundary of
# every field, hundreds of calls for a write) is left out: it tripled the file's time on
# PostgreSQL. The config is explicit, so a schemathesis.toml lying around changes nothing.
config = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False}},
        "dictionaries": {
            "numbers": {"values": [*MINE, ELSEWHERE]},
            "rows": {"values": [ROW]},
        },
        "parameters": {
            **{
                f"{where}.number": {"dictionary": "numbers", "probability": 0.5}
                for where in ("path", "body")
            },
            **{
                name: {"dictionary": "rows", "probability": 0.5}
                for name in ("path.id", "body.queue", "body.contact", "body.company")
            },
        },
    }
)
# Read from the app at collection, so a new endpoint is fuzzed without touching this file.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=config)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def bearers(agent, settings):
    """Tokens of an agent (with a queue of requests, allowed webhooks) and of a portal
    customer (the first request is theirs), keyed by who they are."""
    settings.API_RATE_LIMIT = "100000/minute"  # a fuzzer calls as fast as it can
    agent.user_permissions.add(Permission.objects.get(codename="add_webhooksubscription"))
    customer = PortalContactFactory(id=ROW, company__id=ROW)
    queue = QueueFactory(
        id=ROW, name="Support", numbering_scheme="FUZZ-{seq:05}", is_open_to_portal=True
    )
    queue.members.add(agent)
    made = [
        TicketFactory(queue=queue, by=agent, contact=contact).number
        for contact in (customer, ContactFactory(), ContactFactory())
    ]
    other = TicketFactory(queue=QueueFactory(numbering_scheme="ELSE-{seq:05}"), by=agent)
    assert (made, other.number) == (MINE, ELSEWHERE)
    return {
        who: {"Authorization": f"Bearer {tokens.issue(user, name='schemathesis').plaintext}"}
        for who, user in (("agent", agent), ("customer", customer.user))
    }


@pytest.fixture(autouse=True)
def _app_shares_the_test_transaction():
    """The app answers in this thread, on the test's connection and inside its transaction,
    so it sees the fixture's rows; as in Django's test client, the handler must not close
    that connection at the end of a call."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
# Bounded and the same on every run, so CI stays fast and a failure reproduces; no example
# database is kept. The fixtures are meant to be shared by the examples.
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_schema_says(case, bearers):
    headers = bearers["customer" if case.path.startswith("/api/v1/portal/") else "agent"]
    with transaction.atomic():
        response = case.call(headers=headers)
        # Undone, so every example starts from the fixture's rows (and shrinks to the one
        # that fails), and a server error that aborted PostgreSQL's transaction does not
        # fail the calls after it. (What waits for the commit runs robust, never a 500.)
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS, headers=headers)
