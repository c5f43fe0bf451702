"""Who may see which requests. Every desk and portal view gets its requests through here."""

from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from tickets.models import Activity, Attachment, Contact, Message, Queue, Status, Ticket


def is_agent(user: AbstractBaseUser) -> bool:
    """Agents are signed-in users who are not portal contacts; staff (admins) always are."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or not hasattr(user, "contact")


def sees_everything(user: AbstractBaseUser) -> bool:
    return user.is_staff or user.is_superuser


def queues_for(user: AbstractBaseUser) -> QuerySet[Queue]:
    """The queues an agent works: those they or one of their teams are members of."""
    if sees_everything(user):
        return Queue.objects.all()
    return Queue.objects.filter(_in_queues_of(user, "pk"))


def visible_tickets(user: AbstractBaseUser) -> QuerySet[Ticket]:
    if sees_everything(user):
        return Ticket.objects.all()
    return Ticket.objects.filter(_in_queues_of(user, "queue"))


def visible_activities(user: AbstractBaseUser) -> QuerySet[Activity]:
    """Activities on the requests the agent may see."""
    if sees_everything(user):
        return Activity.objects.all()
    return Activity.objects.filter(_in_queues_of(user, "ticket__queue"))


def _in_queues_of(user: AbstractBaseUser, queue: str) -> Q:
    """`queue` is one the user or one of their teams is a member of. Two IN lists of
    the membership tables, not a join of the queues to both with DISTINCT: PostgreSQL
    plans that in 1–3 ms on every list, these in 0.3 ms."""
    members = Queue.members.through.objects.filter(user_id=user.pk).values("queue_id")
    teams = user.groups.through.objects.filter(user_id=user.pk).values("group_id")
    of_teams = Queue.teams.through.objects.filter(group_id__in=teams).values("queue_id")
    return Q(**{f"{queue}__in": members}) | Q(**{f"{queue}__in": of_teams})


def get_ticket_for_agent(user: AbstractBaseUser, number: str) -> Ticket:
    """The request with this number if the agent may see it; 404 otherwise, so a request
    outside one's queues is indistinguishable from one that does not exist."""
    with _joined_as_written():
        ticket = (
            Ticket.objects.select_related(
                "queue",
                "stage",
                "status",
                "priority",
                "category",
                "owner",
                "team",
                "contact__company",
                "merged_into",
            )
            .filter(number=number)
            .order_by()
            .first()
        )
    # Its queue is checked apart: inside the query above, the membership subquery
    # tripled the time PostgreSQL took to plan it (7 ms for a 0.2 ms lookup).
    if ticket is None or not can_see_queue(user, ticket.queue_id):
        raise Http404("No such request.")
    return ticket


@contextmanager
def _joined_as_written():
    """PostgreSQL plans the joins of a query in every order it can: 6 ms (warm) for the
    request's ten rows above — half of the request page's database time — for a lookup
    whose best order is the one written: the request by its unique number, then each row
    it points at (0.9 ms planned so). SET LOCAL ends with the transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    if connection.in_atomic_block:
        # Releasing a savepoint keeps a SET LOCAL until the outer transaction ends (an
        # API call with an Idempotency-Key): set back here instead. After an error the
        # transaction is rolled back, which undoes it.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL join_collapse_limit = 1")
            yield
            cursor.execute("SET LOCAL join_collapse_limit TO DEFAULT")
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL join_collapse_limit = 1")
        yield


def can_see_queue(user: AbstractBaseUser, queue_id: int) -> bool:
    return sees_everything(user) or queues_for(user).filter(pk=queue_id).exists()


# The contacts' side: the portal.


def contact_of(user: AbstractBaseUser) -> Contact | None:
    """The contact a signed-in portal user is; None for agents, admins and visitors."""
    if not user.is_authenticated or not user.is_active or is_agent(user):
        return None
    return user.contact


def visible_tickets_for_contact(contact: Contact) -> QuerySet[Ticket]:
    """A contact's own requests, plus their company's when they may follow those. Deleted
    requests (spam, mistakes) are gone for the customer."""
    if contact.can_see_company_requests and contact.company_id:
        # The contacts first, then their requests by the (contact, created) index: an OR
        # across the join to contacts made PostgreSQL read every request (0.8 s at a
        # million).
        people = Contact.objects.filter(Q(pk=contact.pk) | Q(company_id=contact.company_id))
        mine = Q(contact__in=people.values("pk"))
    else:
        mine = Q(contact=contact)
    return Ticket.objects.filter(mine).exclude(base_status=Status.Base.DELETED)


def get_ticket_for_contact(contact: Contact, number: str) -> Ticket:
    """The request with this number if the contact may follow it; 404 otherwise, so
    another customer's request is indistinguishable from one that does not exist."""
    ticket = (
        visible_tickets_for_contact(contact)
        .select_related("queue", "stage", "status", "contact")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404("No such request.")
    return ticket


# Attachments: one download for both sides, by the rules of the page that shows them.


def get_attachment_for_user(user: AbstractBaseUser, pk: int) -> Attachment:
    """The attachment if this agent or contact may open it; 404 otherwise, so a file one
    may not see is indistinguishable from one that does not exist."""
    if is_agent(user):
        return get_attachment_for_agent(user, pk)
    contact = contact_of(user)
    if contact is None:
        raise Http404("No such attachment.")
    return get_attachment_for_contact(contact, pk)


def get_attachment_for_agent(user: AbstractBaseUser, pk: int) -> Attachment:
    """An attachment of a request the agent may see. A merged request's messages show on
    its survivor's timeline, so an agent of the survivor's queue may open them too."""
    attachment = (
        Attachment.objects.select_related("message__ticket__merged_into").filter(pk=pk).first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    ticket = attachment.message.ticket
    queues = {ticket.queue_id}
    if ticket.merged_into is not None:
        queues.add(ticket.merged_into.queue_id)
    if not (sees_everything(user) or queues_for(user).filter(pk__in=queues).exists()):
        raise Http404("No such attachment.")
    return attachment


def get_attachment_for_contact(contact: Contact, pk: int) -> Attachment:
    """An attachment of a message the customer may read (never an internal note's or an
    outside party's) on a request they may follow."""
    readable = Message.objects.for_customer().filter(
        ticket__in=visible_tickets_for_contact(contact).values("pk")
    )
    attachment = Attachment.objects.filter(pk=pk, message__in=readable.values("pk")).first()
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment
