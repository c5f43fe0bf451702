"""Every state change of a request, in one place.

Admin, agent views, portal, mail gateway, Celery tasks and the API call these functions;
nobody else sets a request's status, stage or owner and saves it. Each function runs in
one transaction, locks the request's row, and writes an Event for every change it makes.
A step the rules forbid raises WorkflowError with a message meant for a person.

Callers import from here; the package is split by concern:

- core: errors, the change a step collects (_Change), the row lock, the checks
- timekeeping: the clocks (deadline, alert time, escalation chain) and time counters
- conversation: messages, notes, email, colleagues asked in
- editing: a request's properties, owner and team, tags (edit_request does all at once)
- lifecycle: stages and statuses, merge and links, the customer's approvals
- activities: the tasks on a request, and their due times in business hours
- intake: registering a request
- sweep: the escalation sweep's batch steps and notifications
- runs: the history line of an automation's run (its changes are the steps' own)

Each module imports only from those above it in this list.
"""

from tickets.workflow.activities import (
    business_due,
    cancel_activity,
    complete_activity,
    schedule_activity,
)
from tickets.workflow.conversation import (
    add_message,
    add_note,
    ask_colleague,
    attach_files,
    correct_time_units,
    delete_note,
    forward_to_external,
    mark_read,
    pin_note,
    reply_to_customer,
    send_email,
    send_sms,
)
from tickets.workflow.core import (
    UNSET,
    Actor,
    Automation,
    StaleEdit,
    Unset,
    WorkflowError,
    automated,
    current_automation,
)
from tickets.workflow.core import _ensure_fresh as _ensure_fresh  # admin.TicketForm mirrors it
from tickets.workflow.editing import (
    assign_ticket,
    edit_request,
    record_change,
    set_tags,
    update_ticket,
)
from tickets.workflow.intake import AGENT_CHANNELS, FIRST_MESSAGE_KIND, create_ticket
from tickets.workflow.lifecycle import (
    change_status,
    close_ticket,
    decide_approval,
    delete_ticket,
    link_tickets,
    merge_ticket,
    postpone_ticket,
    progress_ticket,
    reactivate_ticket,
    regress_ticket,
    request_approval,
    restore_ticket,
    unlink_tickets,
)
from tickets.workflow.runs import record_automation_run
from tickets.workflow.sweep import (
    escalate_tickets,
    flag_overdue,
    mark_many_unread,
    mark_unread,
    raise_alerts,
    record_notified,
    wake_ticket,
)
from tickets.workflow.timekeeping import ALERT, OVERDUE, PassedDue, due_times

__all__ = [
    "AGENT_CHANNELS",
    "ALERT",
    "FIRST_MESSAGE_KIND",
    "OVERDUE",
    "UNSET",
    "Actor",
    "Automation",
    "PassedDue",
    "StaleEdit",
    "Unset",
    "WorkflowError",
    "add_message",
    "add_note",
    "ask_colleague",
    "assign_ticket",
    "attach_files",
    "automated",
    "business_due",
    "cancel_activity",
    "change_status",
    "close_ticket",
    "complete_activity",
    "create_ticket",
    "current_automation",
    "decide_approval",
    "correct_time_units",
    "delete_note",
    "delete_ticket",
    "due_times",
    "edit_request",
    "escalate_tickets",
    "flag_overdue",
    "forward_to_external",
    "link_tickets",
    "mark_many_unread",
    "mark_read",
    "mark_unread",
    "merge_ticket",
    "record_automation_run",
    "record_change",
    "record_notified",
    "pin_note",
    "postpone_ticket",
    "progress_ticket",
    "raise_alerts",
    "reactivate_ticket",
    "regress_ticket",
    "reply_to_customer",
    "request_approval",
    "restore_ticket",
    "schedule_activity",
    "send_email",
    "send_sms",
    "set_tags",
    "unlink_tickets",
    "update_ticket",
    "wake_ticket",
]
