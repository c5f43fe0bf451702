"""Display helpers of the customer portal."""

from django import template
from django.utils.html import format_html

from tickets.templatetags.desk import STATUS_COLOURS

register = template.Library()


@register.simple_tag
def portal_status(ticket):
    colour = STATUS_COLOURS.get(ticket.base_status, "secondary")
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, ticket.status.name)


@register.simple_tag(takes_context=True)
def page_query(context, number):
    """The current filters with another page number."""
    query = context["request"].GET.copy()
    query["page"] = number
    return query.urlencode()


@register.filter
def sender(message):
    """Who wrote a message, as the customer knows them: the contact, else the agent."""
    if message.author_contact:
        return message.author_contact.name or message.author_contact.email
    if message.author:
        return message.author.get_full_name() or message.author.get_username()
    return "Support" if message.direction == "out" else message.from_address or "You"
