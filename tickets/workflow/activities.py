"""Activities: the tasks on a request (call the customer back, order the part), scheduled
by an agent or an automation, and done or cancelled once."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from tickets import clocks, events
from tickets.access import is_agent
from tickets.models import Activity, Ticket
from tickets.workflow.core import (
    Actor,
    WorkflowError,
    _Change,
    _ensure_editable,
    _ensure_open,
    _lock,
    _name,
    current_automation,
)
from tickets.workflow.timekeeping import _calendar

TITLE_LENGTH = Activity._meta.get_field("title").max_length


@transaction.atomic
def schedule_activity(
    ticket: Ticket,
    *,
    title: str,
    by: Actor,
    description: str = "",
    assignee: AbstractBaseUser | None = None,
    team: Group | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Activity:
    """Give the request a task for an agent and/or a team, due at `due_at` (if ever).
    Inside `automated(...)` the activity names the automation that scheduled it."""
    _lock(ticket)
    _ensure_open(ticket, "schedule an activity")
    title = (title or "").strip()
    if not title:
        raise WorkflowError("Give the activity a title.")
    if assignee is not None and not is_agent(assignee):
        raise WorkflowError(
            f"{_name(assignee)} is not an agent; an activity goes to an agent or a team."
        )
    automation = current_automation()
    change = _Change(ticket, by=by, now=now)
    activity = Activity.objects.create(
        ticket=ticket,
        title=title[:TITLE_LENGTH],
        description=(description or "").strip(),
        assignee=assignee,
        team=team,
        due_at=due_at,
        created_by=by,
        created_at=change.now,
        via=automation.name if automation is not None else "",
    )
    change.log("activity_scheduled", field="activity", new=activity.title)
    change.tell(events.ACTIVITY_SCHEDULED, activity=activity.pk)
    change.save()
    return activity


@transaction.atomic
def complete_activity(activity: Activity, *, by: Actor, now: datetime | None = None) -> Activity:
    return _close(activity, Activity.State.DONE, action="activity_done", by=by, now=now)


@transaction.atomic
def cancel_activity(activity: Activity, *, by: Actor, now: datetime | None = None) -> Activity:
    return _close(activity, Activity.State.CANCELLED, action="activity_cancelled", by=by, now=now)


def _close(
    activity: Activity, state: str, *, action: str, by: Actor, now: datetime | None
) -> Activity:
    """Done or cancelled, once. A closed request's activities can still be tidied up; a
    merged or deleted request is read-only."""
    ticket = _lock(activity.ticket)
    _ensure_editable(ticket)
    # Read again under the request's lock: of two people closing it at once, the second
    # sees the first one's answer.
    activity.refresh_from_db()
    if not activity.is_open:
        raise WorkflowError(
            f"“{activity.title}” is {activity.get_state_display().lower()} already."
        )
    change = _Change(ticket, by=by, now=now)
    activity.state, activity.closed_by, activity.closed_at = state, by, change.now
    activity.save(update_fields=["state", "closed_by", "closed_at"])
    change.log(action, field="activity", new=activity.title)
    change.tell(events.ACTIVITY_CLOSED, activity=activity.pk, state=state)
    change.save()
    return activity


def business_due(ticket: Ticket, *, hours: float, now: datetime | None = None) -> datetime:
    """`hours` from now counted in the request's queue's business hours, as its deadline
    is (wall-clock hours when the queue has no calendar): "due in N business hours"."""
    return clocks.add_business_time(
        now or timezone.now(), timedelta(hours=hours), _calendar(ticket.queue)
    )
