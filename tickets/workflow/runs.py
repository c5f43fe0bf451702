"""What an automation did to a request, as a line of its history: the changes its steps
made are recorded by the steps themselves (named after it, core.automated); this adds
why it ran and how long it took, at the same moment, so the timeline shows them as one."""

from datetime import datetime

from django.db import transaction

from tickets.models import Ticket
from tickets.workflow.core import _Change, current_automation


@transaction.atomic
def record_automation_run(ticket: Ticket, *, summary: str, now: datetime | None = None) -> None:
    """Inside `automated(...)`: the history line of its run on `ticket`."""
    if current_automation() is None:
        raise ValueError("record_automation_run belongs inside workflow.automated(...).")
    change = _Change(ticket, by=None, now=now)
    change.log("automation_ran", reason=summary)
    change.save()
