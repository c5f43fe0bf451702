from celery import shared_task

from tickets import events


@shared_task(acks_late=True, max_retries=0)
def redispatch_events() -> int:
    """Beat's tick: dispatch the domain events whose subscribers have not all run."""
    return events.redispatch_missed()
