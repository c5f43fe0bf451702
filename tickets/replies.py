"""Reply templates: filling in their placeholders for one request."""

import re

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from tickets.models import ReplyTemplate, Ticket

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(ticket: Ticket, agent: AbstractBaseUser | None) -> dict[str, str]:
    contact = ticket.contact
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "contact_name": (contact.name or contact.email) if contact else "",
        "contact_email": contact.email if contact else "",
        "company": str(contact.company) if contact and contact.company else "",
        "agent_name": (agent.get_full_name() or agent.get_username()) if agent else "",
        "queue": ticket.queue.name,
        "status": ticket.status.name,
        "portal_link": f"{settings.SITE_URL}/portal/requests/{ticket.number}/",
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Replace known {placeholders}; anything else in braces stays as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render_template(
    template: ReplyTemplate, ticket: Ticket, agent: AbstractBaseUser | None
) -> tuple[str, str]:
    """The template's subject and body for this request and agent."""
    values = placeholders(ticket, agent)
    return fill(template.subject, values), fill(template.body, values)


def templates_for(ticket: Ticket, purpose: str = ReplyTemplate.Purpose.REPLY):
    """The queue's own templates and the global ones."""
    return ReplyTemplate.objects.filter(
        Q(queue=ticket.queue) | Q(queue__isnull=True), purpose=purpose
    )
