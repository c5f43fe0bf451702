"""A request's lookup by number plans its joins as written (tickets.access), and only it."""

import pytest
from django.db import connection, transaction

from tests.conftest import is_postgres
from tests.factories import AdminFactory, TicketFactory
from tickets.access import get_ticket_for_agent


def join_collapse_limit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(not is_postgres(), reason="a PostgreSQL planner setting")
@pytest.mark.django_db(transaction=True)
def test_the_planner_setting_ends_with_the_lookup_inside_a_longer_transaction():
    ticket, admin = TicketFactory(), AdminFactory()
    default = join_collapse_limit()
    with transaction.atomic():  # as an API call with an Idempotency-Key runs
        assert get_ticket_for_agent(admin, ticket.number) == ticket
        assert join_collapse_limit() == default
    assert get_ticket_for_agent(admin, ticket.number) == ticket
    assert join_collapse_limit() == default
