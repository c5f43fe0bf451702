"""Small display helpers shared by the desk's pages."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

STATUS_COLOURS = {
    "active": "primary",
    "postponed": "warning",
    "closed": "success",
    "deleted": "secondary",
    "merged": "dark",
}


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


@register.simple_tag
def deadline(ticket, now=None):
    """Time left until the deadline, or how long it is overdue; nothing once closed."""
    if ticket.deadline is None or not ticket.is_open:
        return ""
    left = ticket.deadline - (now or timezone.now())
    if left < timedelta(0):
        return format_html(
            '<span class="deadline-overdue" title="{}">{} overdue</span>',
            f"{ticket.deadline:%Y-%m-%d %H:%M}",
            _span(left),
        )
    css = "deadline-soon" if left < timedelta(hours=4) else "text-body-secondary"
    return format_html(
        '<span class="{}" title="{}">{} left</span>',
        css,
        f"{ticket.deadline:%Y-%m-%d %H:%M}",
        _span(left),
    )


@register.simple_tag
def status_badge(ticket):
    colour = STATUS_COLOURS.get(ticket.base_status, "secondary")
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, ticket.status.name)


@register.simple_tag
def priority_badge(priority):
    if priority is None:
        return ""
    return format_html(
        '<span class="badge rounded-pill text-bg-{}">{}</span>', priority.color, priority.name
    )


@register.filter
def duration(delta):
    return _span(delta) if delta is not None else ""
