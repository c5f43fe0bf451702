"""A message's HTML is sanitized by the workflow as it is written, whoever writes it, so
the request page shows it as it is stored (the `message_html` tag's mark_safe)."""

import pytest

from tests.factories import TicketFactory
from tickets import workflow
from tickets.models import Message

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<p>The printer <b>jams</b>.</p>"
    "<script>alert(1)</script>"
    '<img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a>'
    '<img src="https://tracker.example/pixel.gif">'
    "<iframe src='https://evil.example'></iframe>"
    '<div style="background:url(javascript:alert(4))" onclick="alert(5)">x</div>'
)


def receive_hostile_mail(ticket):
    return workflow.add_message(
        ticket,
        by=None,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.INBOUND,
        body_text="The printer jams.",
        body_html=HOSTILE,
    )


def test_html_given_to_the_workflow_is_stored_sanitized(queue, agent):
    message = receive_hostile_mail(TicketFactory(queue=queue, by=agent))
    stored = Message.objects.get(pk=message.pk).body_html
    assert "<b>jams</b>" in stored
    for payload in ("<script", "onerror", "javascript:", "<iframe", "onclick", "style="):
        assert payload not in stored
    # A remote image is not loaded until the agent asks for it.
    assert 'data-remote-src="https://tracker.example/pixel.gif"' in stored


def test_the_request_page_shows_no_script_from_a_message(agent_client, queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    receive_hostile_mail(ticket)
    page = agent_client.get(f"/desk/requests/{ticket.number}/").content.decode()
    assert "<b>jams</b>" in page  # the HTML is shown as HTML
    for payload in ("alert(1)", "alert(2)", "alert(3)", "alert(5)", "<iframe"):
        assert payload not in page
