"""What a customer does on the portal, as domain functions the portal's views call.

They apply the portal's rules (a queue's portal defaults, no writing to a closed request)
and hand the state changes to tickets.workflow, which records them."""

from collections.abc import Iterable

from django.db import transaction

from tickets import workflow
from tickets.models import Category, Channel, Contact, Message, Queue, Status, Ticket
from tickets.workflow import WorkflowError


@transaction.atomic
def open_request(
    *,
    contact: Contact,
    queue: Queue,
    subject: str,
    body: str,
    category: Category | None = None,
    attachments: Iterable = (),
) -> Ticket:
    """A request the contact opens on the portal, with the queue's portal defaults; the
    contact gets the automatic acknowledgement by email once it is committed
    (tickets.acknowledgement subscribes to its creation)."""
    if not queue.is_open_to_portal:
        raise WorkflowError(f"The queue {queue} does not take requests from the portal.")
    ticket = workflow.create_ticket(
        channel=Channel.PORTAL,
        queue=queue,
        subject=subject,
        body=body,
        contact=contact,
        by=contact.user,
        category=category or queue.portal_category,
        priority=queue.portal_priority,
        owner=queue.portal_owner,
        team=queue.portal_team,
        tags=list(queue.portal_tags.all()),
        attachments=attachments,
    )
    return ticket


@transaction.atomic
def write_message(
    ticket: Ticket, *, contact: Contact, body: str, attachments: Iterable = ()
) -> Message:
    """The customer's message on the portal; it marks the request unread for its owner."""
    if not body.strip():
        raise WorkflowError("Write your message first.")
    if ticket.base_status == Status.Base.CLOSED:
        raise WorkflowError(f"{ticket.number} is closed; open a new request instead.")
    message = workflow.add_message(
        ticket,
        by=contact.user,
        contact=contact,
        kind=Message.Kind.PORTAL,
        direction=Message.Direction.INBOUND,
        body_text=body.strip(),
    )
    workflow.attach_files(message, attachments)
    return message


def close_request(ticket: Ticket, *, contact: Contact) -> Ticket:
    """The customer closes their request: they say it is resolved by doing so."""
    return workflow.close_ticket(ticket, resolved=True, by=contact.user)


def update_profile(contact: Contact, *, name: str, phone: str) -> Contact:
    contact.name = name.strip()
    contact.phone = phone.strip()
    contact.save(update_fields=["name", "phone"])
    return contact
