from celery import shared_task

from integrations import webhooks


@shared_task(acks_late=True, max_retries=0)
def deliver_webhook(delivery_pk: int) -> bool:
    """The first attempt, after the commit. Not retried by Celery: a failed attempt is
    due again by the delivery's own backoff, which beat's retry step keeps."""
    return webhooks.attempt_pending(delivery_pk) is not None


@shared_task(acks_late=True, max_retries=0)
def retry_webhooks() -> int:
    """Beat's tick for pending deliveries whose time has come."""
    return webhooks.retry_due()
