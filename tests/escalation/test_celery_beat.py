"""A real Celery worker and beat on Redis run the sweep: the whole chain from the beat
schedule to an escalated request, with nothing eager."""

from datetime import timedelta

import pytest
from celery.beat import EmbeddedService
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections
from django.utils import timezone

from helpdesk.celery import app
from tests.conftest import needs
from tests.escalation.conftest import wait_for
from tests.factories import TicketFactory
from tickets.models import Event, Ticket


def close_connections(**kwargs):
    # The worker thread's connection would outlive the test and block dropping the
    # test database.
    connections.close_all()


@pytest.fixture
def real_worker_and_beat(tmp_path):
    """The project's app with eager mode off, a worker thread and a beat thread whose
    sweep entry ticks every half second instead of every minute."""
    needs("Redis (REDIS_URL=redis://...)", bool(settings.REDIS_URL))
    schedule = app.conf.beat_schedule
    entry = dict(schedule["escalation-sweep"], schedule=0.5)
    app.conf.task_always_eager = False
    app.conf.beat_schedule = {"escalation-sweep": entry}
    task_postrun.connect(close_connections, weak=False)
    app.control.purge()
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=20):
            beat = EmbeddedService(app, thread=True, schedule_filename=str(tmp_path / "beat"))
            beat.start()
            try:
                yield
            finally:
                beat.stop()
    finally:
        task_postrun.disconnect(close_connections)
        app.conf.beat_schedule = schedule
        app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_on_redis_escalate_a_due_request(
    postgres, queue, agent, chain, real_worker_and_beat
):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ticket = TicketFactory(queue=queue, owner=agent, now=an_hour_ago)
    assert wait_for(lambda: Ticket.objects.get(pk=ticket.pk).escalation_level == 1)
    # Later ticks find nothing more due: level 2 is an hour away.
    assert Event.objects.filter(ticket=ticket, action="escalated").count() == 1
