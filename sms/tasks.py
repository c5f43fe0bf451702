from celery import shared_task

from sms import outbox


@shared_task(acks_late=True, max_retries=0)
def deliver_sms(sms_pk: int) -> bool:
    """Send one SMS of the outbox; a failure is rescheduled by the outbox, not by Celery."""
    return outbox.deliver(sms_pk)


@shared_task(acks_late=True, max_retries=0)
def deliver_due_sms() -> int:
    """Beat's tick: retry SMS whose pause is over, and SMS whose task never ran."""
    return outbox.deliver_due()
