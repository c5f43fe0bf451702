"""Notifications: made by the workflow and the sweep, listed at /desk/notifications/."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation.context_processors import unseen_notifications
from escalation.models import Notification
from tests.escalation.conftest import T0, at
from tests.factories import ContactFactory, TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Message

LIST = "/desk/notifications/"


def assigned_ticket(**fields):
    """A request opened for an owner; the owner is told once the creation commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return TicketFactory(**fields)


def customer_writes(ticket, when=None):
    workflow.add_message(
        ticket,
        by=None,
        contact=ticket.contact,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        body_text="Any news?",
        now=when,
    )


def kinds(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


@pytest.fixture
def ticket(queue):
    return TicketFactory(queue=queue, subject="Printer on fire", now=T0)


def test_assigning_a_colleague_tells_them_in_the_desk_and_by_email(
    ticket, agent, colleague, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign_ticket(ticket, by=agent, owner=colleague, now=at(1))
    [notification] = Notification.objects.filter(recipient=colleague)
    assert notification.kind == "assignment"
    assert notification.text == f"Alice Agent assigned {ticket.number} “Printer on fire” to you."
    [mail] = mailoutbox
    assert mail.to == ["bob@helpdesk.test"]
    assert notification.text in mail.body and ticket.number in mail.subject


def test_taking_a_request_yourself_tells_nobody(ticket, agent):
    workflow.assign_ticket(ticket, by=agent, owner=agent)
    assert not Notification.objects.exists()


def test_a_request_opened_for_an_owner_by_the_system_tells_the_owner(queue, agent, committed):
    with committed():
        assigned_ticket(queue=queue, owner=agent)
    assert kinds(agent) == ["assignment"]


def test_a_question_from_a_colleague_is_a_notification(ticket, agent, colleague, committed):
    with committed():
        workflow.ask_colleague(ticket, colleague=colleague, question="Seen it?", by=agent)
    [notification] = Notification.objects.filter(recipient=colleague)
    assert notification.kind == "question" and "Seen it?" in notification.text


def test_a_customer_reply_tells_the_owner_but_not_on_the_first_message(queue, agent, committed):
    with committed():
        ticket = assigned_ticket(queue=queue, owner=agent)
    Notification.objects.all().delete()
    with committed():
        customer_writes(ticket)
    assert kinds(agent) == ["customer_reply"]


def test_a_customer_reply_on_an_unassigned_request_tells_nobody(ticket):
    customer_writes(ticket)
    assert not Notification.objects.exists()


def test_the_list_shows_my_notifications_newest_first_in_few_queries(
    agent_client, agent, queue, django_assert_max_num_queries
):
    first = assigned_ticket(queue=queue, owner=agent, subject="First", now=at(1))
    second = assigned_ticket(queue=queue, owner=agent, subject="Second", now=at(2))
    assigned_ticket(queue=queue, owner=UserFactory(), subject="Someone else's")
    with django_assert_max_num_queries(6):
        response = agent_client.get(LIST)
    assert response.status_code == 200
    page = list(response.context["page"])
    assert [n.ticket for n in page] == [second, first]
    assert response.context["unseen_notifications"] == 2


def test_opening_one_marks_it_seen_and_goes_to_its_request(agent_client, agent, queue):
    ticket = assigned_ticket(queue=queue, owner=agent)
    notification = Notification.objects.get(recipient=agent)
    response = agent_client.post(reverse("notifications:open", args=[notification.pk]))
    assert response.url == reverse("desk:request", args=[ticket.number])
    notification.refresh_from_db()
    assert notification.seen_at is not None


def test_mark_all_seen(agent_client, agent, queue):
    assigned_ticket(queue=queue, owner=agent)
    assigned_ticket(queue=queue, owner=agent)
    response = agent_client.post(reverse("notifications:seen"))
    assert response.url == LIST
    assert not Notification.objects.filter(seen_at__isnull=True).exists()


def test_mark_one_seen_leaves_the_others(agent_client, agent, queue):
    assigned_ticket(queue=queue, owner=agent)
    assigned_ticket(queue=queue, owner=agent)
    one = Notification.objects.first()
    agent_client.post(reverse("notifications:seen"), {"pk": one.pk})
    assert Notification.objects.filter(seen_at__isnull=True).count() == 1


def test_another_agents_notification_cannot_be_opened(agent_client, queue):
    assigned_ticket(queue=queue, owner=UserFactory())
    theirs = Notification.objects.get()
    response = agent_client.post(reverse("notifications:open", args=[theirs.pk]))
    assert response.status_code == 404
    assert Notification.objects.get().seen_at is None


def test_opening_needs_a_post(agent_client, agent, queue):
    assigned_ticket(queue=queue, owner=agent)
    pk = Notification.objects.get().pk
    assert agent_client.get(reverse("notifications:open", args=[pk])).status_code == 405


def test_the_list_is_for_signed_in_agents_only(client, db):
    assert client.get(LIST).status_code == 302
    contact = ContactFactory(user=UserFactory(username="carol"))
    client.force_login(contact.user)
    assert client.get(LIST).status_code == 403


def test_the_badge_count_is_one_query_and_only_when_shown(agent, queue):
    assigned_ticket(queue=queue, owner=agent)
    request = RequestFactory().get("/desk/")
    request.user = agent
    with CaptureQueriesContext(connection) as queries:
        context = unseen_notifications(request)
        assert len(queries) == 0
        rendered = Template("{{ unseen_notifications }}").render(Context(context))
    assert (rendered, len(queries)) == ("1", 1)


def test_the_badge_is_zero_for_anonymous_visitors(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    assert unseen_notifications(request) == {"unseen_notifications": 0}
