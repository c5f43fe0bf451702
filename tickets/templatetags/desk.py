"""Small display helpers shared by the desk's pages."""

from datetime import timedelta

from django import forms, template
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tickets import display

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
    if ticket.base_status == "postponed":
        # Its clocks stand still while it waits; the deadline moves on when it wakes.
        return format_html(
            '<span class="text-body-secondary" title="{}">paused</span>',
            f"{ticket.deadline:%Y-%m-%d %H:%M}",
        )
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


# Form fields in Bootstrap 5 markup, the markup crispy-forms' bootstrap5 pack writes, for
# the desk's busy pages. Crispy renders about ten templates per field (0.5 ms a field
# here); these tags render only the widget's template (0.25 ms). Ordinary forms
# elsewhere keep crispy.


@register.simple_tag
def field(bound_field) -> str:
    """One field: label, widget, errors (with the ids crispy gives them), help text."""
    if bound_field.is_hidden:
        return str(bound_field)
    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return _radio_field(bound_field)
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label">{}</label>{}{}</div></div>',
            bound_field.auto_id,
            _widget(bound_field, "form-check-input"),
            bound_field.id_for_label,
            bound_field.label,
            _errors(bound_field),
            _help_text(bound_field),
        )
    css = "form-select" if isinstance(widget, forms.Select) else "form-control"
    return format_html(
        '<div id="div_{}" class="mb-3">{}{}{}{}</div>',
        bound_field.auto_id,
        _label(bound_field, "label", for_id=bound_field.id_for_label),
        _widget(bound_field, css),
        _errors(bound_field),
        _help_text(bound_field),
    )


@register.simple_tag
def fields(form) -> str:
    """A whole form: its errors that belong to no field, then every field."""
    return format_html(
        "{}{}", form_errors(form), format_html_join("", "{}", ((field(f),) for f in form))
    )


@register.simple_tag
def form_errors(form) -> str:
    if not form.non_field_errors():
        return ""
    return format_html(
        '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
        format_html_join("", "<li>{}</li>", ((error,) for error in form.non_field_errors())),
    )


def _label(bound_field, tag: str, *, for_id: str = "", extra: str = "") -> str:
    required = bound_field.field.required
    return format_html(
        '<{} {}class="form-label{}{}">{}{}</{}>',
        tag,
        format_html('for="{}" ', for_id) if for_id else "",
        " requiredField" if required else "",
        extra,
        bound_field.label,
        format_html('<span class="asteriskField">{}</span>', "*") if required else "",
        tag,
    )


def _widget(bound_field, css: str) -> str:
    classes = [bound_field.field.widget.attrs.get("class"), css]
    if bound_field.errors:
        classes.append("is-invalid")
    return bound_field.as_widget(attrs={"class": " ".join(c for c in classes if c)})


def _radio_field(bound_field) -> str:
    css = "form-check-input is-invalid" if bound_field.errors else "form-check-input"
    options = list(bound_field.subwidgets)
    # The errors follow the last option: Bootstrap shows them after an .is-invalid input.
    errors = _errors(bound_field)
    radios = format_html_join(
        "",
        '<div class="form-check"><input type="radio" class="{}" name="{}" value="{}"{}>'
        '<label for="{}" class="form-check-label">{}</label>{}</div>',
        (
            (
                css,
                option.data["name"],
                option.data["value"],
                flatatt(option.data["attrs"]),
                option.id_for_label,
                option.choice_label,
                errors if option is options[-1] else "",
            )
            for option in options
        ),
    )
    return format_html(
        '<div id="div_{}" class="mb-3"><fieldset{}>{}<div>{}</div>{}</fieldset></div>',
        bound_field.auto_id,
        format_html(' aria-describedby="{}_error"', bound_field.auto_id)
        if bound_field.errors
        else "",
        _label(bound_field, "legend", extra=" fs-6"),
        radios,
        _help_text(bound_field),
    )


def _errors(bound_field) -> str:
    if not bound_field.errors:
        return ""
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        bound_field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((n, bound_field.auto_id, error) for n, error in enumerate(bound_field.errors, 1)),
        ),
    )


def _help_text(bound_field) -> str:
    if not bound_field.help_text:
        return ""
    return format_html(
        '<div id="{}_helptext" class="form-text">{}</div>',
        bound_field.auto_id,
        bound_field.help_text,
    )


@register.filter
def split_quoted(text: str) -> tuple[str, str]:
    """A mail's new text and its folded part (quoted history, signature)."""
    return display.split_quoted(text or "")


@register.simple_tag
def message_html(message):
    """The mail's sanitized HTML with its cid: images shown from their attachments; remote
    images stay blocked (their address was moved aside when the mail was taken in)."""
    urls = {
        attachment.content_id.strip("<>"): attachment.get_absolute_url()
        for attachment in message.attachments.all()
        if attachment.content_id
    }
    # Safe as it is: the workflow sanitized it as the message was written (tickets.html),
    # the only way a message is stored; inline_html adds only escaped attachment URLs.
    return mark_safe(display.inline_html(message.body_html, urls))  # nosec
