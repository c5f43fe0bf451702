"""The admin's SMS lists: read-only, with "send again" and "process again"."""

import pytest

from sms import backends, inbound
from sms.models import IncomingSms, OutgoingSms
from tests.factories import ContactFactory, QueueFactory, TicketFactory
from tests.sms.conftest import sms_from
from tickets import workflow

pytestmark = pytest.mark.django_db


def test_send_again_queues_a_failed_sms_and_leaves_a_sent_one(admin_client, agent, committed):
    ticket = TicketFactory(contact=ContactFactory(mobile="+4915123456789"))
    with committed():
        first = workflow.send_sms(ticket, by=agent, body="First")
        second = workflow.send_sms(ticket, by=agent, body="Second")
    sent, failed = OutgoingSms.objects.get(message=first), OutgoingSms.objects.get(message=second)
    OutgoingSms.objects.filter(pk=failed.pk).update(status=OutgoingSms.Status.FAILED)
    with committed():
        response = admin_client.post(
            "/admin/sms/outgoingsms/",
            {"action": "send_again", "_selected_action": [sent.pk, failed.pk]},
            follow=True,
        )
    assert "1 SMS queued to be sent again; 1 left alone" in response.content.decode()
    assert [s.body for s in backends.sent] == ["First", "Second", "Second"]


def test_process_again_takes_in_a_quarantined_sms_once_its_number_is_known(admin_client):
    QueueFactory(name="Support")
    incoming = inbound.receive(sms_from("+49301234567"))
    assert admin_client.get("/admin/sms/incomingsms/").status_code == 200
    ContactFactory(mobile="+49301234567")
    response = admin_client.post(
        "/admin/sms/incomingsms/",
        {"action": "process_again", "_selected_action": [incoming.pk]},
        follow=True,
    )
    assert "1 of 1 quarantined SMS taken in" in response.content.decode()
    assert IncomingSms.objects.get().state == IncomingSms.State.PROCESSED
