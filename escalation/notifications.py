"""Telling agents about a request: an in-app notification each, emailed once committed.

tickets.workflow calls these from the steps that warrant a notification (assignment, a
colleague's question, a customer's reply) and, through workflow.notify_many, the sweep.

The emails of one call go to the broker as one task with all their ids rather than one
task each: publishing a message costs a millisecond or more, which for a sweep of a
thousand escalations would be most of its time. Each notification is claimed by its
emailed_at before it is sent, so a retried or duplicated task sends only what is unsent.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from escalation.models import Notification
from mailgateway.outbound import email_agent, new_message_id
from tickets.models import Ticket

logger = logging.getLogger(__name__)


class EmailFailed(Exception):
    """Some notifications of a task could not be sent; the task retries those."""


def request_link(ticket: Ticket) -> str:
    return f"{settings.SITE_URL}/desk/requests/{ticket.number}/"


def notify_users(
    users: Iterable[AbstractBaseUser | None],
    ticket: Ticket,
    *,
    kind: str,
    text: str,
    now: datetime,
) -> list[Notification]:
    """One notification per distinct active user, emailed after the commit."""
    return notify_many([(ticket, users, "", text)], kind=kind, now=now)


def notify_many(
    items: Iterable[tuple[Ticket, Iterable[AbstractBaseUser | None], str, str]],
    *,
    kind: str,
    now: datetime,
) -> list[Notification]:
    """For each (request, users, address, text): a notification per distinct active user
    and one for the address if given. One INSERT, one email task after the commit."""
    rows = []
    for ticket, users, address, text in items:
        recipients = {user.pk: user for user in users if user is not None and user.is_active}
        rows.extend(
            Notification(recipient=user, ticket=ticket, kind=kind, text=text, created_at=now)
            for user in recipients.values()
        )
        if address:
            rows.append(
                Notification(address=address, ticket=ticket, kind=kind, text=text, created_at=now)
            )
    notifications = Notification.objects.bulk_create(rows)
    if notifications:
        from escalation.tasks import email_notifications  # tasks → engine → workflow → here

        pks = [notification.pk for notification in notifications]
        # robust: a broker outage must not undo or interrupt the step that notified; the
        # notifications are in the desk either way.
        transaction.on_commit(lambda: email_notifications.delay(pks), robust=True)
    return notifications


def email_body(notification: Notification) -> str:
    return f"{notification.text}\n\n{request_link(notification.ticket)}\n"


def email(notification_pks: list[int]) -> int:
    """Email these notifications; returns how many were sent. Raises EmailFailed after
    trying them all when any failed; those are unclaimed again for the retry."""
    sent, failed = 0, []
    for pk in notification_pks:
        claimed = Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        notification = Notification.objects.select_related("ticket", "recipient").get(pk=pk)
        try:
            sent += _send(notification)
        except Exception as error:  # SMTP, DNS, socket: all mean "try again later"
            logger.warning("Could not email notification %s: %s", pk, error)
            Notification.objects.filter(pk=pk).update(emailed_at=None)
            failed.append(pk)
    if failed:
        raise EmailFailed(f"could not email notifications {failed}")
    return sent


def _send(notification: Notification) -> bool:
    if notification.recipient_id:
        return email_agent(
            notification.recipient,
            subject=notification.subject,
            body=email_body(notification),
        )
    EmailMessage(
        subject=notification.subject,
        body=email_body(notification),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.address],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": new_message_id()},
    ).send(fail_silently=False)
    return True


def mark_seen(user: AbstractBaseUser, *, pk: int | None = None, now: datetime | None = None) -> int:
    """Mark one of the user's notifications (or, without pk, all of them) seen."""
    unseen = Notification.objects.filter(recipient=user, seen_at__isnull=True)
    if pk is not None:
        unseen = unseen.filter(pk=pk)
    return unseen.update(seen_at=now or timezone.now())
