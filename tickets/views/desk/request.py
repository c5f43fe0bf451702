"""The request page and every action on it.

Each action is the same short path: the request through tickets.access (404 outside the
agent's queues) → its form → one tickets.workflow call → a message → back to the page. A
refusal from the workflow is shown to the agent: next to the form's field when the action
has a form, as a message otherwise.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tickets import workflow
from tickets.access import get_ticket_for_agent, visible_tickets
from tickets.forms.activities import ActivityForm
from tickets.forms.request import (
    ApprovalForm,
    AskForm,
    CloseForm,
    ForwardForm,
    LinkForm,
    MergeForm,
    NoteForm,
    PostponeForm,
    PropertiesForm,
    RegressForm,
    ReplyForm,
    SmsForm,
    with_signature,
)
from tickets.models import Approval, Message, ReplyTemplate, Stage, Status, Ticket
from tickets.replies import fill, placeholders, render_template, templates_for
from tickets.timeline import build_timeline
from tickets.views.desk import agent_required
from tickets.workflow import StaleEdit, WorkflowError

CUSTOMER_HISTORY_SIZE = 5
ACTION_FORMS = {
    "reply": ReplyForm,
    "sms": SmsForm,
    "note": NoteForm,
    "ask": AskForm,
    "forward": ForwardForm,
    "regress": RegressForm,
    "postpone": PostponeForm,
    "close": CloseForm,
    "merge": MergeForm,
    "link": LinkForm,
    "approval": ApprovalForm,
    "activity": ActivityForm,
}

# Panels that load their form when first opened (they are opened now and then); reply,
# note and link are in the page from the start. One that comes back with errors is
# rendered in place, open.
LAZY_PANELS = (
    "sms",
    "ask",
    "forward",
    "regress",
    "postpone",
    "close",
    "merge",
    "approval",
    "activity",
)


# The page


@agent_required
@require_GET
def request_page(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    workflow.mark_read(ticket, by=request.user)
    if request.headers.get("HX-Request"):
        context = {
            "ticket": ticket,
            "timeline": _timeline(request, ticket),
            "correctable_since": _correctable_since(),
        }
        return render(request, "desk/request/_timeline.html", context)
    return _render_page(request, ticket)


def _render_page(request, ticket, bound: dict | None = None, *, properties_form=None):
    """The whole page; `bound` holds an action's form that came back with errors, whose
    panel opens to show them."""
    bound = bound or {}
    forms = {
        name: _blank_form(name, ticket, request.user)
        for name in ACTION_FORMS
        if name not in LAZY_PANELS
    } | bound
    summary = _summary_context(ticket)
    actions = _actions(
        ticket, stage_position=summary["stage_position"], next_stage=summary["next_stage"]
    )
    actions.update(dict.fromkeys(bound, True))
    context = {
        "ticket": ticket,
        "forms": forms,
        "properties_form": properties_form or PropertiesForm(ticket=ticket, user=request.user),
        "actions": actions,
        "open_panel": next(iter(bound), ""),
        "reply_templates": list(templates_for(ticket)) if actions["reply"] else [],
        "related": visible_tickets(request.user).filter(related=ticket).select_related("status"),
        "collaborators": list(ticket.collaborators.all()),
        "merged_tickets": list(ticket.merged_tickets.all()),
        "approvals": _approvals(ticket, request.user),
        "activities": list(
            ticket.activities.select_related("assignee", "team", "closed_by").open_first()
        ),
        "first_response": ticket.replied_at - ticket.created_at if ticket.replied_at else None,
        "timeline": _timeline(request, ticket),
        "correctable_since": _correctable_since(),
        **summary,
        **_customer_history(ticket, request.user),
    }
    return render(request, "desk/request/page.html", context)


def _correctable_since():
    """An agent's own articles written since then may have their time units corrected
    (workflow.correct_time_units says so again when it is done)."""
    return timezone.now() - timedelta(minutes=settings.TIME_UNITS_CORRECTABLE_MINUTES)


def _approvals(ticket: Ticket, user) -> list[tuple[Approval, bool]]:
    """The request's approvals, newest first, each with whether the agent decides it now;
    the agent's teams read once for all of them."""
    approvals = list(
        ticket.approvals.select_related("stage", "approver", "approver_team").order_by(
            "-requested_at"
        )
    )
    teams = (
        set(user.groups.values_list("pk", flat=True))
        if any(a.is_pending and a.approver_team_id for a in approvals)
        else set()
    )
    return [(a, a.is_pending and a.may_decide(user, teams=teams)) for a in approvals]


@agent_required
@require_GET
def action_fields(request, number, name):
    """The fields of an action's form, fetched when its panel is first opened."""
    if name not in LAZY_PANELS:
        raise Http404("No such action.")
    ticket = get_ticket_for_agent(request.user, number)
    form = _blank_form(name, ticket, request.user)
    return render(request, "desk/request/_fields.html", {"form": form})


def _blank_form(name: str, ticket: Ticket, user):
    kwargs = {"ticket": ticket, "user": user}
    if name in ("merge", "link"):
        kwargs["visible"] = visible_tickets(user)
    if name == "reply":
        kwargs["initial"] = {"body": with_signature("", ticket, user)}
    return ACTION_FORMS[name](**kwargs)


def _actions(ticket: Ticket, *, stage_position: int, next_stage: Stage | None) -> dict:
    """Which actions apply to the request as it is now."""
    names = ["reply", "sms", "note", "ask", "forward", "progress", "regress", "postpone"]
    names += [
        "reactivate",
        "close",
        "delete",
        "restore",
        "merge",
        "link",
        "email",
        "print",
        "approval",
    ]
    names += ["activity", "close_activity"]
    actions = dict.fromkeys(names, False)
    if ticket.base_status == Status.Base.DELETED:
        return actions | {"restore": True}
    if ticket.base_status == Status.Base.MERGED:
        return actions | {"print": True}
    has_contact = ticket.contact_id is not None
    return actions | {
        "reply": has_contact,
        "sms": has_contact and bool(ticket.contact.mobile),
        "note": True,
        "ask": True,
        "forward": True,
        "progress": ticket.is_open
        and next_stage is not None
        and next_stage.state != Stage.State.CLOSED,
        "regress": ticket.is_open and stage_position > 0,
        "postpone": ticket.is_open,
        "reactivate": ticket.base_status in (Status.Base.POSTPONED, Status.Base.CLOSED),
        "close": ticket.base_status != Status.Base.CLOSED,
        "delete": True,
        "merge": True,
        "link": True,
        "email": has_contact,
        "print": True,
        "approval": has_contact and ticket.is_open and next_stage is not None,
        "activity": ticket.is_open,
        # A closed request's activities can still be finished or cancelled.
        "close_activity": True,
    }


def _summary_context(ticket: Ticket) -> dict:
    """The header: the stage progress bar and the regressions beside it."""
    stages = list(ticket.queue.stages.all())
    position = next((i for i, s in enumerate(stages) if s.pk == ticket.stage_id), -1)
    progress = [
        (stage, "done" if i < position else "current" if i == position else "todo")
        for i, stage in enumerate(stages)
    ]
    following = stages[position + 1] if 0 <= position < len(stages) - 1 else None
    regressions = list(ticket.events.filter(action="regressed").select_related("actor"))
    return {
        "stage_progress": progress,
        "stage_position": position,
        "next_stage": following,
        "regressions": regressions,
    }


def _timeline(request, ticket: Ticket):
    return build_timeline(ticket, request.user, show=request.GET.get("show", "all"))


def _customer_history(ticket: Ticket, user) -> dict:
    """The contact's and their company's other requests, open ones first (OTRS's customer
    history widgets), among those the agent may see."""
    contact = ticket.contact
    if contact is None:
        return {}
    others = (
        visible_tickets(user)
        .exclude(pk=ticket.pk)
        # A merged request lives on in its survivor; a deleted one is usually spam.
        .exclude(base_status__in=[Status.Base.MERGED, Status.Base.DELETED])
        .select_related("status", "priority", "contact")
        .annotate(
            closed_last=Case(
                When(base_status__in=[Status.Base.ACTIVE, Status.Base.POSTPONED], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed_last", "-created_at")
    )
    history = {"contact_tickets": list(others.filter(contact=contact)[:CUSTOMER_HISTORY_SIZE])}
    if contact.company_id:
        company_tickets = others.filter(contact__company_id=contact.company_id).exclude(
            contact=contact
        )
        history["company_tickets"] = list(company_tickets[:CUSTOMER_HISTORY_SIZE])
    return history


# Helpers shared by the actions


def _back(ticket: Ticket):
    return redirect("desk:request", number=ticket.number)


def _run(request, ticket: Ticket, act: Callable[[], object], done: str):
    """An action without a form: its refusal becomes an error message."""
    try:
        act()
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return _back(ticket)


def _run_form(
    request, number: str, name: str, act: Callable, done: str | Callable, *, error_field=None
):
    """An action with a form. Invalid input or a refusal re-renders the page with the
    action's panel open and the error next to its field (`error_field`, or above the form).
    `act` may return the request to go to afterwards (a merge goes to the survivor); `done`
    is the success message, or makes it from the form's data."""
    ticket = get_ticket_for_agent(request.user, number)
    kwargs = {"ticket": ticket, "user": request.user}
    if name in ("merge", "link"):
        kwargs["visible"] = visible_tickets(request.user)
    form = ACTION_FORMS[name](request.POST, request.FILES, **kwargs)
    if form.is_valid():
        try:
            target = act(ticket, form.cleaned_data)
        except WorkflowError as error:
            form.add_error(error_field, str(error))
        else:
            messages.success(request, done(form.cleaned_data) if callable(done) else done)
            return _back(target if isinstance(target, Ticket) else ticket)
    # A refused call may have changed the in-memory request before it rolled back.
    ticket = get_ticket_for_agent(request.user, number)
    form.ticket = ticket
    return _render_page(request, ticket, {name: form})


# Properties


@agent_required
@require_POST
def properties(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    form = PropertiesForm(request.POST, ticket=ticket, user=request.user)
    saved = stale = False
    if form.is_valid():
        try:
            workflow.edit_request(
                ticket, by=request.user, seen_at=form.cleaned_data["seen_at"], **form.changes()
            )
            saved = True
        except WorkflowError as error:
            stale = isinstance(error, StaleEdit)
            form.add_error(None, str(error))
    ticket = get_ticket_for_agent(request.user, number)
    if saved:
        form = PropertiesForm(ticket=ticket, user=request.user)
    if not request.headers.get("HX-Request"):
        if saved:
            messages.success(request, f"{ticket.number} is saved.")
            return _back(ticket)
        return _render_page(request, ticket, properties_form=form)
    context = {"ticket": ticket, "properties_form": form, "saved": saved, "stale": stale}
    # The header (status, priority, stage bar) follows the change in the same response.
    context |= _summary_context(ticket) | {"oob": True}
    return render(request, "desk/request/_properties.html", context)


# Writing: reply, note, ask a colleague, forward


@agent_required
@require_POST
def reply(request, number):
    def act(ticket, data):
        workflow.reply_to_customer(
            ticket,
            by=request.user,
            body=data["body"],
            subject=data["subject"],
            cc=data["cc"],
            bcc=data["bcc"],
            attachments=data["attachments"],
            time_units=data["time_units"],
        )

    return _run_form(request, number, "reply", act, "Your reply is on its way to the customer.")


@agent_required
@require_POST
def send_sms(request, number):
    def act(ticket, data):
        workflow.send_sms(ticket, by=request.user, body=data["body"], time_units=data["time_units"])

    return _run_form(request, number, "sms", act, "Your SMS is on its way to the customer.")


@agent_required
@require_GET
def reply_template(request, number, pk):
    """A reply template filled in for this request, to replace the reply's subject and text."""
    ticket = get_ticket_for_agent(request.user, number)
    template = get_object_or_404(templates_for(ticket), pk=pk)
    subject, body = render_template(template, ticket, request.user)
    form = ReplyForm(
        ticket=ticket,
        user=request.user,
        initial={"subject": subject, "body": with_signature(body, ticket, request.user)},
    )
    return render(request, "desk/request/_reply_text.html", {"form": form})


@agent_required
@require_POST
def note(request, number):
    def act(ticket, data):
        workflow.add_note(
            ticket,
            text=data["text"],
            pinned=data["pinned"],
            time_units=data["time_units"],
            by=request.user,
        )

    return _run_form(request, number, "note", act, "Your note is added.")


@agent_required
@require_POST
def note_pin(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    note = get_object_or_404(ticket.messages, pk=pk, kind=Message.Kind.NOTE)
    pinned = request.POST.get("pinned") == "1"
    return _run(
        request,
        ticket,
        lambda: workflow.pin_note(note, pinned=pinned, by=request.user),
        "The note is pinned to the top." if pinned else "The note is unpinned.",
    )


@agent_required
@require_POST
def time_units_correct(request, number, pk):
    """The author's correction of an article's time units (the workflow says until when)."""
    ticket = get_ticket_for_agent(request.user, number)
    message = get_object_or_404(ticket.messages, pk=pk)
    units = request.POST.get("time_units", "").strip()
    if not units.isdigit():
        messages.error(request, "Time units are a whole number, 0 or more.")
        return _back(ticket)
    return _run(
        request,
        ticket,
        lambda: workflow.correct_time_units(message, units=int(units), by=request.user),
        f"The time units are corrected to {int(units)}.",
    )


@agent_required
@require_POST
def decide_approval(request, number, pk):
    """An agent's answer to an approval they are asked for."""
    ticket = get_ticket_for_agent(request.user, number)
    approval = get_object_or_404(ticket.approvals, pk=pk, asks=Approval.Asks.AGENTS)
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse"):
        messages.error(request, "Approve or refuse.")
        return redirect("desk:request", number=ticket.number)
    approved = decision == "approve"
    return _run(
        request,
        ticket,
        lambda: workflow.decide_approval(approval, approved=approved, by=request.user),
        "Approved." if approved else "Refused.",
    )


@agent_required
@require_POST
def note_delete(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    note = get_object_or_404(ticket.messages, pk=pk, kind=Message.Kind.NOTE)
    return _run(
        request, ticket, lambda: workflow.delete_note(note, by=request.user), "The note is deleted."
    )


@agent_required
@require_POST
def ask(request, number):
    def act(ticket, data):
        workflow.ask_colleague(
            ticket, colleague=data["colleague"], question=data["question"], by=request.user
        )

    return _run_form(
        request, number, "ask", act, "Your colleague is asked.", error_field="colleague"
    )


@agent_required
@require_POST
def forward(request, number):
    def act(ticket, data):
        workflow.forward_to_external(
            ticket,
            by=request.user,
            to=data["to"],
            body=data["text"],
            attachments=data["attachments"],
            time_units=data["time_units"],
        )

    return _run_form(request, number, "forward", act, "The request is forwarded.")


@agent_required
@require_POST
def ask_approval(request, number):
    def act(ticket, data):
        workflow.request_approval(ticket, text=data["text"], by=request.user)

    return _run_form(
        request, number, "approval", act, "The customer is asked to approve.", error_field="text"
    )


# Activities


@agent_required
@require_POST
def activity_add(request, number):
    def act(ticket, data):
        workflow.schedule_activity(ticket, by=request.user, **data)

    return _run_form(request, number, "activity", act, "The activity is scheduled.")


@agent_required
@require_POST
def activity_done(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    activity = get_object_or_404(ticket.activities, pk=pk)
    return _run(
        request,
        ticket,
        lambda: workflow.complete_activity(activity, by=request.user),
        f"“{activity.title}” is done.",
    )


@agent_required
@require_POST
def activity_cancel(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    activity = get_object_or_404(ticket.activities, pk=pk)
    return _run(
        request,
        ticket,
        lambda: workflow.cancel_activity(activity, by=request.user),
        f"“{activity.title}” is cancelled.",
    )


# Lifecycle: stages and status


@agent_required
@require_POST
def progress(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    return _run(
        request,
        ticket,
        lambda: workflow.progress_ticket(ticket, by=request.user),
        f"{ticket.number} moved on a stage.",
    )


@agent_required
@require_POST
def regress(request, number):
    def act(ticket, data):
        workflow.regress_ticket(ticket, reason=data["reason"], by=request.user)

    return _run_form(request, number, "regress", act, "The request went back a stage.")


@agent_required
@require_POST
def postpone(request, number):
    def act(ticket, data):
        workflow.postpone_ticket(
            ticket, until=data["until"], status=data["status"], by=request.user
        )

    return _run_form(
        request, number, "postpone", act, "The request is postponed.", error_field="until"
    )


@agent_required
@require_POST
def reactivate(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    return _run(
        request,
        ticket,
        lambda: workflow.reactivate_ticket(ticket, by=request.user),
        f"{ticket.number} is active again.",
    )


@agent_required
@require_POST
def close(request, number):
    def act(ticket, data):
        workflow.close_ticket(
            ticket, resolved=data["resolved"], status=data["status"], by=request.user
        )

    return _run_form(request, number, "close", act, "The request is closed.")


@agent_required
@require_POST
def delete(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    return _run(
        request,
        ticket,
        lambda: workflow.delete_ticket(ticket, by=request.user),
        f"{ticket.number} is deleted; you can restore it from this page.",
    )


@agent_required
@require_POST
def restore(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    return _run(
        request,
        ticket,
        lambda: workflow.restore_ticket(ticket, by=request.user),
        f"{ticket.number} is restored.",
    )


# Other requests: merge, link


@agent_required
@require_POST
def merge(request, number):
    def act(ticket, data):
        workflow.merge_ticket(ticket, into=data["number"], by=request.user)
        return data["number"]

    def done(data):
        return f"{number} is merged into {data['number'].number}."

    return _run_form(request, number, "merge", act, done, error_field="number")


@agent_required
@require_GET
def merge_search(request, number):
    """Open requests the agent may see, by number or subject, to merge this one into."""
    ticket = get_ticket_for_agent(request.user, number)
    query = request.GET.get("q", "").strip()
    candidates = []
    if query:
        candidates = (
            visible_tickets(request.user)
            .open()
            .exclude(pk=ticket.pk)
            .filter(Q(number__icontains=query) | Q(subject__icontains=query))
            .select_related("status")[:10]
        )
    context = {"ticket": ticket, "query": query, "candidates": candidates}
    return render(request, "desk/request/_merge_candidates.html", context)


@agent_required
@require_POST
def link(request, number):
    def act(ticket, data):
        workflow.link_tickets(ticket, data["number"], by=request.user)

    return _run_form(request, number, "link", act, "The requests are linked.", error_field="number")


@agent_required
@require_POST
def unlink(request, number, other):
    ticket = get_ticket_for_agent(request.user, number)
    other = get_ticket_for_agent(request.user, other)
    return _run(
        request,
        ticket,
        lambda: workflow.unlink_tickets(ticket, other, by=request.user),
        f"{other.number} is no longer related.",
    )


# Print, email


@agent_required
@require_GET
def print_page(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    context = {
        "ticket": ticket,
        "public_messages": ticket.timeline_messages().for_customer(),
        "tags": ticket.tags.all(),
    }
    return render(request, "desk/request/print.html", context)


@agent_required
@require_POST
def email_request(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    if ticket.contact is None:
        messages.error(request, f"{ticket.number} is internal: it has no contact to email.")
        return _back(ticket)
    subject, body = _printout(ticket, request.user)
    return _run(
        request,
        ticket,
        lambda: workflow.send_email(
            ticket, by=request.user, body=body, subject=subject, to=ticket.contact.email
        ),
        f"{ticket.number} is emailed to {ticket.contact.email}.",
    )


def _printout(ticket: Ticket, agent) -> tuple[str, str]:
    """The request as a text email: the queue's (or a global) print template when there is
    one, with the public messages where it says {messages} or else below it."""
    listing = render_to_string(
        "emails/request_summary.txt",
        {"ticket": ticket, "public_messages": ticket.timeline_messages().for_customer()},
    ).strip()
    template = (
        templates_for(ticket, ReplyTemplate.Purpose.PRINT)
        .order_by(F("queue").asc(nulls_last=True), "name")
        .first()
    )
    if template is None:
        return "", listing
    values = placeholders(ticket, agent) | {"messages": listing}
    body = fill(template.body, values)
    if "{messages}" not in template.body:
        body = f"{body.rstrip()}\n\n{listing}"
    return fill(template.subject, values), body


urlpatterns = [
    path("requests/<str:number>/", request_page, name="request"),
    path("requests/<str:number>/properties/", properties, name="request_properties"),
    path("requests/<str:number>/fields/<str:name>/", action_fields, name="request_fields"),
    path("requests/<str:number>/reply/", reply, name="request_reply"),
    path("requests/<str:number>/sms/", send_sms, name="request_sms"),
    path("requests/<str:number>/template/<int:pk>/", reply_template, name="request_template"),
    path("requests/<str:number>/note/", note, name="request_note"),
    path("requests/<str:number>/notes/<int:pk>/pin/", note_pin, name="request_note_pin"),
    path(
        "requests/<str:number>/messages/<int:pk>/time-units/",
        time_units_correct,
        name="request_time_units",
    ),
    path("requests/<str:number>/notes/<int:pk>/delete/", note_delete, name="request_note_delete"),
    path("requests/<str:number>/ask/", ask, name="request_ask"),
    path("requests/<str:number>/forward/", forward, name="request_forward"),
    path("requests/<str:number>/approval/", ask_approval, name="request_approval"),
    path(
        "requests/<str:number>/approvals/<int:pk>/",
        decide_approval,
        name="request_decide_approval",
    ),
    path("requests/<str:number>/activities/", activity_add, name="request_activity_add"),
    path(
        "requests/<str:number>/activities/<int:pk>/done/",
        activity_done,
        name="request_activity_done",
    ),
    path(
        "requests/<str:number>/activities/<int:pk>/cancel/",
        activity_cancel,
        name="request_activity_cancel",
    ),
    path("requests/<str:number>/progress/", progress, name="request_progress"),
    path("requests/<str:number>/regress/", regress, name="request_regress"),
    path("requests/<str:number>/postpone/", postpone, name="request_postpone"),
    path("requests/<str:number>/reactivate/", reactivate, name="request_reactivate"),
    path("requests/<str:number>/close/", close, name="request_close"),
    path("requests/<str:number>/delete/", delete, name="request_delete"),
    path("requests/<str:number>/restore/", restore, name="request_restore"),
    path("requests/<str:number>/merge/", merge, name="request_merge"),
    path("requests/<str:number>/merge-search/", merge_search, name="request_merge_search"),
    path("requests/<str:number>/link/", link, name="request_link"),
    path("requests/<str:number>/unlink/<str:other>/", unlink, name="request_unlink"),
    path("requests/<str:number>/print/", print_page, name="request_print"),
    path("requests/<str:number>/email/", email_request, name="request_email"),
]
