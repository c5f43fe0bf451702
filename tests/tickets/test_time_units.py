"""Time units per article: summed on the request, correctable by the article's author for
a while after writing it (TIME_UNITS_CORRECTABLE_MINUTES), each correction in the history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TicketFactory, UserFactory
from tickets import workflow
from tickets.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    return workflow.add_note(ticket, text="Called the customer.", time_units=10, by=agent)


def test_the_author_corrects_the_time_units_and_the_history_says_so(note, agent):
    workflow.correct_time_units(note, units=25, by=agent)
    note.refresh_from_db()
    assert note.time_units == 25
    line = Event.objects.get(ticket=note.ticket, action="time_units_corrected")
    assert (line.old_value, line.new_value, line.actor) == ("10", "25", agent)


def test_another_agent_may_not_correct_them(note, queue):
    colleague = UserFactory()
    queue.members.add(colleague)
    with pytest.raises(workflow.WorkflowError, match="Only the article's author"):
        workflow.correct_time_units(note, units=1, by=colleague)
    note.refresh_from_db()
    assert note.time_units == 10


def test_after_the_while_they_stay_as_written(note, agent, settings):
    settings.TIME_UNITS_CORRECTABLE_MINUTES = 60
    later = note.created_at + timedelta(minutes=61)
    with pytest.raises(workflow.WorkflowError, match="for 60 minutes after writing"):
        workflow.correct_time_units(note, units=1, by=agent, now=later)
    workflow.correct_time_units(note, units=12, by=agent, now=later - timedelta(minutes=2))
    note.refresh_from_db()
    assert note.time_units == 12


def test_negative_units_are_refused(note, agent):
    with pytest.raises(workflow.WorkflowError, match="cannot be negative"):
        workflow.correct_time_units(note, units=-5, by=agent)


def test_the_desk_corrects_them_and_the_request_sums_them(agent_client, note, agent):
    workflow.add_note(note.ticket, text="Second call.", time_units=5, by=agent)
    url = f"/desk/requests/{note.ticket.number}/"
    page = agent_client.get(url).content.decode()
    assert f'id="time-units-{note.pk}"' in page  # the author's own, still correctable
    answer = agent_client.post(f"{url}messages/{note.pk}/time-units/", {"time_units": "30"})
    assert answer.status_code == 302
    page = agent_client.get(url)
    assert page.context["timeline"].time_units == 35
    assert "The time units are corrected to 30." in page.content.decode()


@pytest.mark.parametrize("typed", ["", "ten", "-3", "2.5"])
def test_the_desk_refuses_what_is_not_a_count(agent_client, note, typed):
    url = f"/desk/requests/{note.ticket.number}/"
    agent_client.post(f"{url}messages/{note.pk}/time-units/", {"time_units": typed})
    page = agent_client.get(url)
    assert "Time units are a whole number, 0 or more." in page.content.decode()
    note.refresh_from_db()
    assert note.time_units == 10


def test_a_colleagues_article_shows_its_units_without_a_form(client, note, queue):
    colleague = UserFactory()
    queue.members.add(colleague)
    client.force_login(colleague)
    page = client.get(f"/desk/requests/{note.ticket.number}/").content.decode()
    assert f'id="time-units-{note.pk}"' not in page
    assert '<i class="bi bi-stopwatch"></i> 10' in page


def test_an_old_article_of_ones_own_shows_them_without_a_form(agent_client, note):
    type(note).objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(days=1))
    page = agent_client.get(f"/desk/requests/{note.ticket.number}/").content.decode()
    assert f'id="time-units-{note.pk}"' not in page
    assert '<i class="bi bi-stopwatch"></i> 10' in page


def test_an_article_of_another_request_or_queue_is_not_found(agent_client, note, queue, agent):
    other = TicketFactory(queue=queue, by=agent)
    url = f"/desk/requests/{other.number}/messages/{note.pk}/time-units/"
    assert agent_client.post(url, {"time_units": "1"}).status_code == 404
    hidden = TicketFactory(by=agent)  # a queue the agent does not work
    hidden_note = workflow.add_note(hidden, text="Elsewhere.", time_units=3, by=agent)
    url = f"/desk/requests/{hidden.number}/messages/{hidden_note.pk}/time-units/"
    assert agent_client.post(url, {"time_units": "1"}).status_code == 404
    note.refresh_from_db()
    hidden_note.refresh_from_db()
    assert (note.time_units, hidden_note.time_units) == (10, 3)
