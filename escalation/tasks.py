from celery import shared_task

from escalation import engine, hooks, notifications


@shared_task(acks_late=True, max_retries=0)
def sweep() -> str:
    """Beat's tick for every clock. Not retried: the next tick a minute later is the retry,
    and a run that overlaps another skips the rows that one holds."""
    return str(engine.sweep())


@shared_task(
    autoretry_for=(hooks.DeliveryFailed,),
    retry_backoff=15,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def deliver_hook(delivery_pk: int) -> bool:
    """Run an escalation hook or POST its webhook; each attempt is recorded, a delivered
    one is never delivered again."""
    return hooks.deliver(delivery_pk)


@shared_task(acks_late=True, max_retries=0)
def email_notifications(notification_pks: list[int]) -> int:
    """Put notifications' mail in the outbox (an agent's, or an address's), each once: a
    duplicate of the task skips those already there. The outbox retries failed sends."""
    return notifications.email(notification_pks)
