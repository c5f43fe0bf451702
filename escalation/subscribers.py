"""What escalation does when something happens to a request (tickets.events): tell the
agents it concerns, in the desk and by email."""

from django.contrib.auth import get_user_model

from escalation import hooks, notifications
from escalation.models import Notification
from tickets import events
from tickets.models import DomainEvent, EscalationLevel, Message, Ticket


def _name(user) -> str:
    if user is None:
        return "The helpdesk"
    return user.get_full_name() or user.get_username()


def notify_new_owner(event: DomainEvent) -> None:
    """Whoever gets a request from someone else hears of it."""
    owner_pk = event.payload.get("new")
    if not owner_pk or owner_pk == event.actor_id:
        return
    owner = get_user_model().objects.filter(pk=owner_pk).first()
    ticket = event.ticket
    notifications.notify_users(
        [owner],
        ticket,
        kind=Notification.Kind.ASSIGNMENT,
        text=f"{_name(event.actor)} assigned {ticket.number} “{ticket.subject}” to you.",
        now=event.at,
    )


def notify_owner_of_customer_reply(event: DomainEvent) -> None:
    """The owner hears when the customer writes again (not of the opening message)."""
    ticket = event.ticket
    if event.payload.get("first") or ticket.owner_id is None:
        return
    message = (
        Message.objects.select_related("author_contact").filter(pk=event.payload["message"]).first()
    )
    if message is None or message.author_contact is None:
        return
    notifications.notify_users(
        [ticket.owner],
        ticket,
        kind=Notification.Kind.CUSTOMER_REPLY,
        text=f"{message.author_contact} wrote on {ticket.number} “{ticket.subject}”.",
        now=event.at,
    )


def notify_colleague(event: DomainEvent) -> None:
    """A colleague asked about a request hears the question."""
    ticket = event.ticket
    colleague = get_user_model().objects.filter(pk=event.payload["colleague"]).first()
    note = Message.objects.filter(pk=event.payload["note"]).first()
    question = note.body_text if note else ""
    notifications.notify_users(
        [colleague],
        ticket,
        kind=Notification.Kind.QUESTION,
        text=f"{_name(event.actor)} asks about {ticket.number} “{ticket.subject}”:\n\n{question}",
        now=event.at,
    )


def call_hooks(event: DomainEvent) -> None:
    """A level that names a hook or a webhook was reached: record its deliveries, sent by
    a task once this commits. The request is read now, after the sweep's delegation."""
    level = EscalationLevel.objects.filter(pk=event.payload["level"]).first()
    ticket = (
        Ticket.objects.select_related("queue", "priority", "status", "owner", "team", "contact")
        .filter(pk=event.ticket_id)
        .first()
    )
    if level is None or ticket is None:  # deleted since
        return
    hooks.schedule([(ticket, level)], now=event.at)


def subscribe() -> None:
    events.subscribe(
        events.ESCALATED,
        call_hooks,
        key="escalation.hooks",
        when=lambda event: event.payload.get("hooked", False),
    )
    events.subscribe(events.OWNER_CHANGED, notify_new_owner, key="escalation.notify_owner")
    events.subscribe(
        events.MESSAGE_RECEIVED, notify_owner_of_customer_reply, key="escalation.customer_reply"
    )
    events.subscribe(events.COLLEAGUE_ASKED, notify_colleague, key="escalation.colleague")
