"""Telling agents about a request: an in-app notification each, emailed through the outbox.

Subscribers (escalation.subscribers) notify on what the workflow tells of (an assignment,
a colleague's question, a customer's reply); the sweep (escalation.engine) notifies in
bulk with `tell`, which also keeps in the request's history whom it told.

The emails of one call go to the broker as one task with all their ids rather than one
task each: publishing a message costs a millisecond or more, which for a sweep of a
thousand escalations would be most of its time. The task claims each notification by its
emailed_at and puts its mail in the outbox, which sends it and retries what fails.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from escalation.models import Notification
from mailgateway.outbound import email_address, email_agent
from tickets import workflow
from tickets.models import Ticket

logger = logging.getLogger(__name__)


class Notice(NamedTuple):
    """Whom to tell what about one request, for `tell`."""

    ticket: Ticket
    text: str
    users: Iterable[AbstractBaseUser] = ()
    address: str = ""
    reason: str = ""


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


@transaction.atomic
def tell(
    notices: list[Notice], *, kind: str, by=None, now: datetime | None = None
) -> list[Notification]:
    """Notify for many requests at once and keep in each one's history whom it told: one
    INSERT of notifications, one of history."""
    now = now or timezone.now()
    sent = notify_many(
        [(notice.ticket, list(notice.users), notice.address, notice.text) for notice in notices],
        kind=kind,
        now=now,
    )
    told: dict[int, list[str]] = {}
    for notification in sent:
        recipient = notification.recipient
        who = (recipient.get_full_name() or recipient.get_username()) if recipient else ""
        told.setdefault(notification.ticket_id, []).append(who or notification.address)
    workflow.record_notified(
        [(n.ticket, told.get(n.ticket.pk, []), n.reason) for n in notices], by=by, now=now
    )
    return sent


def email_body(notification: Notification) -> str:
    return f"{notification.text}\n\n{request_link(notification.ticket)}\n"


@transaction.atomic
def email(notification_pks: list[int]) -> int:
    """Put these notifications' mail in the outbox, each once; returns how many."""
    claimed = Notification.objects.filter(pk__in=notification_pks, emailed_at__isnull=True)
    claimed = list(claimed.select_for_update(of=("self",)).select_related("ticket", "recipient"))
    Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(emailed_at=timezone.now())
    return sum(_send(notification) for notification in claimed)


def _send(notification: Notification) -> bool:
    key = f"notification:{notification.pk}"
    subject, body = notification.subject, email_body(notification)
    if notification.recipient_id:
        return email_agent(notification.recipient, subject=subject, body=body, key=key)
    email_address(notification.address, subject=subject, body=body, key=key)
    return True


def mark_seen(user: AbstractBaseUser, *, pk: int | None = None, now: datetime | None = None) -> int:
    """Mark one of the user's notifications (or, without pk, all of them) seen."""
    unseen = Notification.objects.filter(recipient=user, seen_at__isnull=True)
    if pk is not None:
        unseen = unseen.filter(pk=pk)
    return unseen.update(seen_at=now or timezone.now())
