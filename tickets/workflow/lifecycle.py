"""A request's way through its stages and statuses: progress, regress, postpone,
reactivate, close, delete, restore, merge, link; and the customer's approvals.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from tickets import events
from tickets.access import is_agent
from tickets.models import Approval, Stage, Status, Ticket
from tickets.workflow.core import (
    Actor,
    WorkflowError,
    _Change,
    _ensure_editable,
    _ensure_open,
    _lock,
    _name,
    _status_for,
)
from tickets.workflow.timekeeping import _plan_clocks, _resume_clocks, _switch_counter


def _set_status(change: _Change, status: Status, *, reason: str = "") -> None:
    """Every status change goes through here, so the clocks stop when a request stops
    being active, resume when it becomes active again, and the time counter follows."""
    was_active = change.ticket.base_status == Status.Base.ACTIVE
    change.set("status", status, action="status_changed", reason=reason)
    change.set_quietly("base_status", status.base)
    is_active = status.base == Status.Base.ACTIVE
    if was_active and not is_active:
        change.set_quietly("clocks_paused_at", change.now)
    elif is_active and not was_active:
        _resume_clocks(change)
    _switch_counter(change)


def _stages(ticket: Ticket) -> list[Stage]:
    return list(ticket.queue.stages.all())


@transaction.atomic
def progress_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Move the request to its queue's next stage. The last step, into Closed, is closing."""
    _lock(ticket)
    _ensure_open(ticket, "progress it")
    stages = _stages(ticket)
    following = stages[stages.index(ticket.stage) + 1]
    if following.state == Stage.State.CLOSED:
        raise WorkflowError(
            f"{ticket.number} is at its last stage; close it, saying whether it was resolved."
        )
    _ensure_approved(ticket, following)
    change = _Change(ticket, by=by, now=now)
    change.set("stage", following, action="progressed")
    _plan_clocks(change)
    return change.save()


def _ensure_approved(ticket: Ticket, stage: Stage) -> None:
    """A pending or rejected approval for the stage holds the request where it is."""
    latest = ticket.approvals.filter(stage=stage).order_by("requested_at", "pk").last()
    if latest is not None and latest.approved is not True:
        waiting = "waits for" if latest.is_pending else "was refused"
        raise WorkflowError(
            f"{ticket.number} cannot move on to {stage.name}: the customer's approval {waiting}."
        )


@transaction.atomic
def request_approval(
    ticket: Ticket,
    *,
    text: str,
    by: Actor,
    stage: Stage | None = None,
    approver: AbstractBaseUser | None = None,
    team: Group | None = None,
    now: datetime | None = None,
) -> Approval:
    """Ask the contact — or, given `approver` and/or `team`, that agent or any member of
    that team — to approve something (a quote) before the request progresses into
    `stage` (by default its next one). The contact decides on the portal or by the
    mailed link, agents on the request page."""
    _lock(ticket)
    _ensure_open(ticket, "ask for an approval")
    by_agents = approver is not None or team is not None
    if approver is not None and not is_agent(approver):
        raise WorkflowError(f"{_name(approver)} is not an agent and cannot approve in the desk.")
    if not by_agents and ticket.contact is None:
        raise WorkflowError(f"{ticket.number} is internal: there is nobody to approve.")
    if not text or not text.strip():
        raise WorkflowError("Say what the customer is asked to approve.")
    stages = _stages(ticket)
    stage = stage or stages[stages.index(ticket.stage) + 1]
    if stage not in stages[stages.index(ticket.stage) + 1 :] or stage.is_system:
        raise WorkflowError(f"{stage.name} is not a stage ahead of {ticket.number}.")
    if ticket.approvals.filter(stage=stage, decided_at__isnull=True).exists():
        raise WorkflowError(f"An approval for {stage.name} is already waiting.")
    change = _Change(ticket, by=by, now=now)
    approval = Approval.objects.create(
        ticket=ticket,
        stage=stage,
        text=text.strip(),
        requested_by=by,
        requested_at=change.now,
        asks=Approval.Asks.AGENTS if by_agents else Approval.Asks.CONTACT,
        approver=approver,
        approver_team=team,
    )
    change.log("approval_requested", field="approval", new=stage.name, reason=approval.text)
    change.tell(events.APPROVAL_REQUESTED, approval=approval.pk, stage=stage.pk, asks=approval.asks)
    change.save()
    return approval


@transaction.atomic
def decide_approval(
    approval: Approval, *, approved: bool, by: Actor, now: datetime | None = None
) -> Approval:
    """The answer of whoever is asked (the contact; or the approver or a member of the
    team). Decided once: a second answer (a reused link) is refused."""
    ticket = _lock(approval.ticket)
    _ensure_editable(ticket)
    approval.refresh_from_db()
    if not approval.is_pending:
        raise WorkflowError("This approval is decided already.")
    if approval.asks == Approval.Asks.AGENTS and not approval.may_decide(by):
        raise WorkflowError(f"This approval is for {approval.asked} to decide.")
    change = _Change(ticket, by=by, now=now)
    approval.approved, approval.decided_at, approval.decided_by = bool(approved), change.now, by
    approval.save(update_fields=["approved", "decided_at", "decided_by"])
    change.log(
        "approval_given" if approved else "approval_refused",
        field="approval",
        new=approval.stage.name,
    )
    change.tell(
        events.APPROVAL_GIVEN if approved else events.APPROVAL_REFUSED,
        approval=approval.pk,
        stage=approval.stage_id,
    )
    change.save()
    return approval


@transaction.atomic
def regress_ticket(
    ticket: Ticket, *, reason: str, by: Actor, now: datetime | None = None
) -> Ticket:
    """Move the request back to the previous stage; the reason is required and kept."""
    _lock(ticket)
    _ensure_open(ticket, "regress it")
    if not reason or not reason.strip():
        raise WorkflowError("Say why the request goes back a stage.")
    stages = _stages(ticket)
    position = stages.index(ticket.stage)
    if position == 0:
        raise WorkflowError(f"{ticket.number} is at its first stage; there is none before it.")
    change = _Change(ticket, by=by, now=now)
    change.set("stage", stages[position - 1], action="regressed", reason=reason.strip())
    _plan_clocks(change)
    return change.save()


@transaction.atomic
def postpone_ticket(
    ticket: Ticket,
    *,
    until: datetime,
    by: Actor,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Put the request aside until a time; the clocks' beat wakes it then."""
    _lock(ticket)
    _ensure_open(ticket, "postpone it")
    change = _Change(ticket, by=by, now=now)
    if until <= change.now:
        raise WorkflowError("Postpone until a time in the future.")
    _set_status(change, _status_for(Status.Base.POSTPONED, status))
    change.set("postponed_until", until, action="postponed")
    return change.save()


@transaction.atomic
def reactivate_ticket(
    ticket: Ticket,
    *,
    by: Actor,
    status: Status | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Make a postponed or closed request active again. A reopened request goes back to
    the stage before Closed."""
    _lock(ticket)
    _ensure_editable(ticket)
    if ticket.base_status == Status.Base.ACTIVE and status is None:
        raise WorkflowError(f"{ticket.number} is already active.")
    change = _Change(ticket, by=by, now=now)
    if ticket.base_status == Status.Base.CLOSED:
        stages = _stages(ticket)
        change.set("stage", stages[stages.index(ticket.stage) - 1], action="reopened")
        change.set("closed_at", None, action="reopened")
        change.set("resolved", None, action="reopened")
    _set_status(change, _status_for(Status.Base.ACTIVE, status), reason=reason)
    change.set("postponed_until", None)
    return change.save()


@transaction.atomic
def close_ticket(
    ticket: Ticket,
    *,
    resolved: bool,
    by: Actor,
    status: Status | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close the request from any stage, recording whether it was resolved."""
    _lock(ticket)
    _ensure_editable(ticket)
    if resolved is None:
        raise WorkflowError("Say whether the request was resolved.")
    if ticket.base_status == Status.Base.CLOSED:
        raise WorkflowError(f"{ticket.number} is already closed.")
    _ensure_no_open_activities(ticket)
    change = _Change(ticket, by=by, now=now)
    change.set("stage", ticket.queue.stage(Stage.State.CLOSED), action="closed")
    _set_status(change, _status_for(Status.Base.CLOSED, status))
    change.set("resolved", bool(resolved), action="closed")
    change.set("closed_at", change.now, action="closed")
    change.set("postponed_until", None)
    change.set_quietly("alert_at", None)
    change.set_quietly("awaiting_external", False)
    return change.save()


def _ensure_no_open_activities(ticket: Ticket) -> None:
    """The queue's choice: its requests are closed only once their tasks are finished.
    Merging and deleting are not closing, and are not held up."""
    if not ticket.queue.open_activities_block_close:
        return
    count = ticket.activities.open().count()
    if count == 1:
        raise WorkflowError(
            f"{ticket.number} has an open activity; finish or cancel it before you close it."
        )
    if count:
        raise WorkflowError(
            f"{ticket.number} has {count} open activities; "
            "finish or cancel them before you close it."
        )


@transaction.atomic
def change_status(
    ticket: Ticket,
    *,
    status: Status,
    by: Actor,
    postponed_until: datetime | None = None,
    resolved: bool | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Set any status, built-in or custom, through the step its built-in status means."""
    match status.base:
        case Status.Base.ACTIVE:
            return reactivate_ticket(ticket, by=by, status=status, now=now)
        case Status.Base.POSTPONED:
            if postponed_until is None:
                raise WorkflowError("Say until when the request is postponed.")
            return postpone_ticket(ticket, until=postponed_until, by=by, status=status, now=now)
        case Status.Base.CLOSED:
            return close_ticket(ticket, resolved=resolved, by=by, status=status, now=now)
        case Status.Base.DELETED:
            return delete_ticket(ticket, by=by, now=now)
    raise WorkflowError("A request becomes merged only by merging it into another one.")


@transaction.atomic
def delete_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Soft-delete: the request keeps everything and can be restored."""
    _lock(ticket)
    _ensure_editable(ticket)
    change = _Change(ticket, by=by, now=now)
    _set_status(change, Status.builtin(Status.Base.DELETED))
    change.log("deleted")
    return change.save()


@transaction.atomic
def restore_ticket(ticket: Ticket, *, by: Actor, now: datetime | None = None) -> Ticket:
    """Undo a deletion: the request gets back the status it had."""
    _lock(ticket)
    if ticket.base_status != Status.Base.DELETED:
        raise WorkflowError(f"{ticket.number} is not deleted.")
    deletion = ticket.events.filter(field="status", new_value=ticket.status.name).last()
    previous = Status.objects.filter(name=deletion.old_value).first() if deletion else None
    if previous is None or previous.base in (Status.Base.DELETED, Status.Base.MERGED):
        previous = Status.builtin(Status.Base.ACTIVE)
    change = _Change(ticket, by=by, now=now)
    _set_status(change, previous)
    change.log("restored")
    return change.save()


@transaction.atomic
def merge_ticket(ticket: Ticket, *, into: Ticket, by: Actor, now: datetime | None = None) -> Ticket:
    """Merge a request into a survivor. The merged one becomes read-only with status
    merged and points at the survivor, whose timeline shows its messages from now on."""
    if ticket.pk == into.pk:
        raise WorkflowError("A request cannot be merged into itself.")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted([ticket, into], key=lambda t: t.pk)
    _lock(first)
    _lock(second)
    _ensure_editable(ticket)
    if into.base_status == Status.Base.MERGED:
        raise WorkflowError(
            f"{into.number} was itself merged into {into.merged_into.number}; merge into that."
        )
    if into.base_status == Status.Base.DELETED:
        raise WorkflowError(f"{into.number} is deleted; restore it before merging into it.")
    change = _Change(ticket, by=by, now=now)
    _set_status(change, Status.builtin(Status.Base.MERGED))
    change.set("merged_into", into, action="merged")
    change.log("merged_in", field="merged_ticket", new=ticket.number, ticket=into)
    # Requests merged into this one follow it, so a timeline is never more than one hop.
    for earlier in Ticket.objects.filter(merged_into=ticket):
        change.log("merged_in", field="merged_ticket", new=earlier.number, ticket=into)
    Ticket.objects.filter(merged_into=ticket).update(merged_into=into, updated_at=change.now)
    into.updated_at = change.now
    into.save(update_fields=["updated_at"])
    return change.save()


@transaction.atomic
def link_tickets(
    ticket: Ticket, other: Ticket, *, by: Actor, now: datetime | None = None
) -> Ticket:
    """Mark two requests as related; the link shows on both."""
    if ticket.pk == other.pk:
        raise WorkflowError("A request cannot be related to itself.")
    _ensure_editable(ticket)
    if ticket.related.filter(pk=other.pk).exists():
        raise WorkflowError(f"{ticket.number} and {other.number} are already related.")
    ticket.related.add(other)
    change = _Change(ticket, by=by, now=now)
    change.log("linked", field="related", new=other.number)
    change.log("linked", field="related", new=ticket.number, ticket=other)
    return change.save()


@transaction.atomic
def unlink_tickets(
    ticket: Ticket, other: Ticket, *, by: Actor, now: datetime | None = None
) -> Ticket:
    if not ticket.related.filter(pk=other.pk).exists():
        raise WorkflowError(f"{ticket.number} and {other.number} are not related.")
    _ensure_editable(ticket)
    ticket.related.remove(other)
    change = _Change(ticket, by=by, now=now)
    change.log("unlinked", field="related", old=other.number)
    change.log("unlinked", field="related", old=ticket.number, ticket=other)
    return change.save()
