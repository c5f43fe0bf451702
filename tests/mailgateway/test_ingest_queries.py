"""Ingestion's queries per mail are pinned, so they cannot creep back up.

The route is built first, as a poll builds it once for a batch of mails; the counts are
of one mail's ingestion transaction (in a test its BEGIN and COMMIT show as a savepoint
and its release), and apart from it of what its subscribers do after the commit."""

from datetime import time

import pytest

from escalation.models import Notification
from mailgateway import ingest
from mailgateway.models import Mailbox
from tests.factories import ContactFactory, QueuePriorityTimeFactory, UserFactory
from tests.mailgateway.conftest import make_mail
from tickets import workflow
from tickets.models import BusinessCalendar, EscalationLevel, OpeningHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(support_queue):
    """A mailbox with its own reply address into a queue that plans every clock."""
    calendar = BusinessCalendar.objects.create(name="Office")
    for weekday in range(5):
        OpeningHours.objects.create(
            calendar=calendar, weekday=weekday, opens=time(8), closes=time(16)
        )
    support_queue.calendar = calendar
    support_queue.save(update_fields=["calendar"])
    priority = support_queue.default_priority
    QueuePriorityTimeFactory(queue=support_queue, priority=priority)
    EscalationLevel.objects.create(priority=priority, alert_level=1, minutes=120)
    mailbox = Mailbox.objects.create(
        name="help", protocol="maildir", queue=support_queue, reply_address="help@helpdesk.test"
    )
    ContactFactory(email="dana@example.test")
    return ingest.Route.build(mailbox=mailbox)


def test_a_new_request_is_taken_in_in_15_queries(route, django_assert_max_num_queries):
    # 21 when the acknowledgement was written in the same transaction.
    with django_assert_max_num_queries(15):
        result = ingest.ingest(make_mail(), route=route)
    assert result.outcome == "new" and result.ticket.deadline is not None
    assert not result.ticket.messages.filter(kind="system").exists()  # not before the commit


def test_the_acknowledgement_after_the_commit_costs_43_queries(
    route, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks() as after_commit:
        result = ingest.ingest(make_mail(), route=route)
    # The events of the request, its message and the acknowledgement, each dispatched to
    # its subscribers in their own transactions, and the acknowledgement handed to SMTP;
    # two of them only once in five minutes (cached): which triggers automation rules
    # answer, and which events webhook subscriptions want.
    with django_assert_max_num_queries(43), django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()
    acknowledgement = result.ticket.messages.get(kind="system")
    assert acknowledgement.from_address == "help@helpdesk.test"
    assert acknowledgement.sent_at is not None


def test_a_new_sender_costs_3_queries_more(route, django_assert_max_num_queries):
    with django_assert_max_num_queries(18):
        result = ingest.ingest(make_mail(sender="erin@example.test"), route=route)
    assert result.outcome == "new" and result.ticket.contact.email == "erin@example.test"


def test_a_reply_that_tells_the_owner_is_appended_in_15_queries(
    route, django_assert_max_num_queries, committed
):
    first = ingest.ingest(make_mail(message_id="<q1@example.test>"), route=route).ticket
    workflow.assign_ticket(first, by=None, owner=UserFactory())
    reply = make_mail(subject=f"Re: [{first.number}]", in_reply_to="<q1@example.test>")
    with committed(), django_assert_max_num_queries(15):  # telling the owner: after commit
        result = ingest.ingest(reply, route=route)
    assert result.outcome == "appended" and result.ticket == first
    assert first.owner.notifications.filter(kind=Notification.Kind.CUSTOMER_REPLY).exists()
