from smtplib import SMTPException

from celery import shared_task

from mailgateway import outbound


@shared_task(
    autoretry_for=(OSError, SMTPException),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
    acks_late=True,
)
def send_message(message_pk: int) -> bool:
    """Send a stored outbound message; safe to run twice (a sent message is skipped)."""
    return outbound.send_message(message_pk)


@shared_task(
    autoretry_for=(OSError, SMTPException),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
    acks_late=True,
)
def send_notification(user_pk: int, subject: str, body: str) -> bool:
    """Tell an agent something by email."""
    return outbound.notify_agent(user_pk, subject=subject, body=body)
