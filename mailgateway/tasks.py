import imaplib
import poplib

from celery import shared_task

from mailgateway import outbox


@shared_task(acks_late=True, max_retries=0)
def deliver_mail(mail_pk: int) -> bool:
    """Send one mail of the outbox; a failure is rescheduled by the outbox, not by Celery."""
    return outbox.deliver(mail_pk)


@shared_task(acks_late=True, max_retries=0)
def deliver_due_mail() -> int:
    """Beat's tick: retry mail whose pause is over, and mail whose task never ran."""
    return outbox.deliver_due()


@shared_task(acks_late=True, max_retries=0)
def poll_mailboxes() -> int:
    """Beat's tick: start the polls that are due. A missed tick is made up by the next."""
    from mailgateway import fetch  # fetch → ingest → the workflow, which imports this module

    return fetch.start_due_polls()


@shared_task(
    autoretry_for=(OSError, imaplib.IMAP4.error, poplib.error_proto),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=3,
    acks_late=True,
)
def poll_mailbox(mailbox_pk: int) -> dict | None:
    """Poll one mailbox; safe to run twice (the mailbox lock and the mails' unique keys)."""
    from mailgateway import fetch

    counts = fetch.poll_mailbox(mailbox_pk)
    return dict(counts) if counts is not None else None
