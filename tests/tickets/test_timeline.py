"""The timeline presenter: what the request pages list, built outside their views."""

import pytest

from tests.factories import AttachmentFactory, MessageFactory, TicketFactory, UserFactory
from tickets import workflow
from tickets.timeline import build_customer_timeline, build_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, agent):
    ticket = TicketFactory(queue=queue, body="It smokes.")
    workflow.add_note(ticket, text="Checked the toner.", by=agent, time_units=2)
    workflow.reply_to_customer(ticket, body="Please unplug it.", by=agent, time_units=3)
    return ticket


def test_all_interleaves_messages_and_events_oldest_first(ticket, agent):
    timeline = build_timeline(ticket, agent)
    kinds = [kind for kind, _ in timeline.entries]
    assert kinds.count("message") == 3 and "event" in kinds
    moments = [item.created_at if kind == "message" else item.at for kind, item in timeline.entries]
    assert moments == sorted(moments)
    assert timeline.time_units == 5


def test_notes_and_messages_are_shown_apart(ticket, agent):
    notes = build_timeline(ticket, agent, show="notes").entries
    assert [item.body_text for _, item in notes] == ["Checked the toner."]
    messages = build_timeline(ticket, agent, show="messages").entries
    assert [item.body_text for _, item in messages] == ["It smokes.", "Please unplug it."]


def test_an_unknown_filter_shows_all(ticket, agent):
    assert build_timeline(ticket, agent, show="bogus").show == "all"


def test_only_its_author_may_delete_the_latest_note(ticket, agent):
    note = ticket.messages.get(kind="note")
    assert build_timeline(ticket, agent).deletable_note == note
    assert build_timeline(ticket, UserFactory()).deletable_note is None


def test_the_customer_reads_no_internal_note(ticket, agent):
    timeline = build_customer_timeline(ticket, ticket.contact)
    assert [m.body_text for m in timeline] == ["It smokes.", "Please unplug it."]


def test_the_desk_page_takes_the_same_queries_for_3_or_30_messages(
    agent_client, ticket, agent, django_assert_max_num_queries
):
    url = f"/desk/requests/{ticket.number}/"
    with django_assert_max_num_queries(60) as few:
        agent_client.get(url)
    for _ in range(27):
        AttachmentFactory(message=MessageFactory(ticket=ticket))
        workflow.add_note(ticket, text="And again", by=agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(agent_client.get(url).context["timeline"].entries) > 30
