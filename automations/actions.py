"""What a rule's or macro's actions do to a request: each one step of the workflow, so
history, clocks and permissions behave as if an agent did it (the history names the
rule or macro, automations.engine sees to that); calls to other servers go out through
integrations.webhooks, signed, retried and logged."""

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from automations.conditions import Facts
from automations.models import Action
from integrations import webhooks
from tickets import workflow
from tickets.models import Status, Ticket
from tickets.replies import render_template
from tickets.workflow import Actor, WorkflowError

K = Action.Kind
NOBODY = {
    Action.Recipient.CONTACT: "no contact",
    Action.Recipient.OWNER: "no owner with an email address",
    Action.Recipient.TEAM: "no team whose members have email addresses",
    Action.Recipient.ADDRESS: "no address",
}
PROVISIONING = "provisioning"  # the webhooks topic whose answers are kept on the request


def problem(action: Action) -> str:
    """Why this action cannot run ("" when it can): the row it names is gone, or it lacks
    what it needs."""
    needs = {
        K.SET_OWNER: ("user", "owner"),
        K.SET_TEAM: ("team", "team"),
        K.SET_PRIORITY: ("priority", "priority"),
        K.SET_STATUS: ("status", "status"),
        K.ADD_TAG: ("tag", "tag"),
        K.REMOVE_TAG: ("tag", "tag"),
        K.SET_CUSTOM_FIELD: ("custom_field", "custom field"),
        K.SEND_EMAIL: ("template", "reply template"),
    }.get(action.kind)
    if needs and getattr(action, f"{needs[0]}_id") is None:
        return f"“{action.get_kind_display()}”: the {needs[1]} it names no longer exists."
    if action.kind == K.SET_CATEGORY and action.category_id is None and action.value != "":
        return f"“{action.get_kind_display()}”: the category it names no longer exists."
    if action.kind in (K.WEBHOOK, K.PROVISION) and not action.url:
        return f"“{action.get_kind_display()}” has no URL."
    by_address = action.kind == K.SEND_EMAIL and action.recipient == Action.Recipient.ADDRESS
    if by_address and "@" not in action.value:
        return "“Send an email” to an address needs the address in its value."
    needs_text = action.kind in (K.ADD_NOTE, K.SCHEDULE_ACTIVITY, K.REQUEST_APPROVAL)
    if needs_text and not action.value.strip():
        return f"“{action.get_kind_display()}” needs its text in the value."
    return ""


def run(action: Action, facts: Facts, *, by: Actor, now: datetime, source) -> str:
    """Do the action; returns what it did, for the run log. A step the workflow refuses
    raises WorkflowError."""
    ticket = facts.ticket
    match action.kind:
        case K.SET_OWNER:
            workflow.assign_ticket(ticket, owner=action.user, by=by, now=now)
            return f"owner → {action.user.get_username()}"
        case K.SET_TEAM:
            workflow.assign_ticket(ticket, team=action.team, by=by, now=now)
            return f"team → {action.team.name}"
        case K.SET_PRIORITY:
            workflow.update_ticket(ticket, priority=action.priority, by=by, now=now)
            return f"priority → {action.priority}"
        case K.SET_CATEGORY:
            workflow.update_ticket(ticket, category=action.category, by=by, now=now)
            return f"category → {action.category or '—'}"
        case K.SET_STATUS:
            until = now + timedelta(hours=action.hours or 24)
            workflow.change_status(
                ticket, status=action.status, postponed_until=until, by=by, now=now
            )
            return f"status → {action.status}"
        case K.ADD_TAG | K.REMOVE_TAG:
            tags = [tag for tag in ticket.tags.all() if tag.pk != action.tag_id]
            if action.kind == K.ADD_TAG:
                tags.append(action.tag)
            workflow.set_tags(ticket, tags=tags, by=by, now=now)
            sign = "+" if action.kind == K.ADD_TAG else "−"
            return f"tags {sign}{action.tag.name}"
        case K.SET_CUSTOM_FIELD:
            key = action.custom_field.key
            values = {**ticket.custom_fields, key: action.value}
            workflow.update_ticket(ticket, custom_fields=values, by=by, now=now)
            return f"{key} → {action.value}"
        case K.CLOSE_RESOLVED | K.CLOSE_UNRESOLVED:
            resolved = action.kind == K.CLOSE_RESOLVED
            closed = (
                action.status
                if action.status and action.status.base == Status.Base.CLOSED
                else None
            )
            workflow.close_ticket(ticket, resolved=resolved, status=closed, by=by, now=now)
            return "closed, resolved" if resolved else "closed, unresolved"
        case K.SEND_EMAIL:
            return _send_email(action, ticket, by=by, now=now)
        case K.ADD_NOTE:
            workflow.add_note(ticket, text=action.value, by=by, now=now)
            return "note added"
        case K.SCHEDULE_ACTIVITY:
            due = (
                workflow.business_due(ticket, hours=action.hours, now=now) if action.hours else None
            )
            workflow.schedule_activity(
                ticket,
                title=action.value,
                assignee=action.user,
                team=action.team,
                due_at=due,
                by=by,
                now=now,
            )
            return f"activity “{action.value}”"
        case K.REQUEST_APPROVAL:
            approval = workflow.request_approval(
                ticket,
                text=action.value,
                stage=action.stage,
                approver=action.user,
                team=action.team,
                by=by,
                now=now,
            )
            return f"approval asked of {approval.asked} for {approval.stage.name}"
        case K.WEBHOOK | K.PROVISION:
            delivery = webhooks.enqueue(
                url=action.url,
                secret=action.secret,
                event=f"request.{facts.trigger}",
                payload=request_payload(facts, source=source),
                topic=PROVISIONING if action.kind == K.PROVISION else "automation",
                reference=f"ticket:{ticket.pk} action:{action.pk}",
            )
            return f"{action.get_kind_display().lower()} {delivery.delivery_id}"
    raise WorkflowError(f"Unknown action {action.kind!r}.")


def _send_email(action: Action, ticket: Ticket, *, by: Actor, now: datetime) -> str:
    subject, body = render_template(action.template, ticket, by)
    to = _recipients(action, ticket)
    if not to:
        raise WorkflowError(f"{ticket.number} has {NOBODY[action.recipient]} to mail.")
    workflow.send_email(
        ticket,
        by=by,
        body=body,
        to=", ".join(to),
        subject=subject,
        automatic=True,
        # mail to the agents is theirs: the customer does not see it on the portal
        external=action.recipient != Action.Recipient.CONTACT,
        now=now,
    )
    return f"email to {', '.join(to)}"


def _recipients(action: Action, ticket: Ticket) -> list[str]:
    match action.recipient:
        case Action.Recipient.OWNER:
            return [ticket.owner.email] if ticket.owner and ticket.owner.email else []
        case Action.Recipient.TEAM:
            if ticket.team is None:
                return []
            return sorted(ticket.team.user_set.exclude(email="").values_list("email", flat=True))
        case Action.Recipient.ADDRESS:
            return [action.value.strip()]
    return [ticket.contact.email] if ticket.contact else []


def request_payload(facts: Facts, *, source) -> dict:
    """The JSON a webhook receives: the request as it is now and what changed."""
    ticket = facts.ticket
    return {
        "trigger": facts.trigger,
        "by": source.label,
        "request": {
            "number": ticket.number,
            "subject": ticket.subject,
            "queue": ticket.queue.name,
            "stage": ticket.stage.name,
            "status": ticket.status.name,
            "base_status": ticket.base_status,
            "priority": str(ticket.priority),
            "category": str(ticket.category) if ticket.category else None,
            "tags": facts.tag_names,
            "channel": ticket.channel,
            "contact": ticket.contact.email if ticket.contact else None,
            "owner": ticket.owner.get_username() if ticket.owner else None,
            "custom_fields": ticket.custom_fields,
            "created_at": ticket.created_at.isoformat(),
            "updated_at": ticket.updated_at.isoformat(),
            "url": settings.SITE_URL + reverse("desk:request", args=[ticket.number]),
        },
        "changes": facts.changes,
    }
