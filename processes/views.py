"""Processes in the desk: the process card of the request page (loaded into it by htmx),
its step forms, approval and sending back, and starting a process for a contact."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from processes import cards, runs
from processes.forms import StartForm, StepForm
from processes.models import Process
from tickets.access import get_ticket_for_agent, queues_for
from tickets.models import Contact
from tickets.views.desk import agent_required
from tickets.workflow import WorkflowError


@require_GET
@agent_required
def process_card(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    run = cards.run_of(ticket)
    if run is None:
        return HttpResponse("")  # htmx swaps the placeholder for nothing
    return render(request, "processes/_card.html", cards.card_context(run, user=request.user))


@require_POST
@agent_required
def submit(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    run = cards.get_run(ticket)
    step = get_object_or_404(run.process.steps, pk=pk)
    try:
        runs.submit_step(run, step, request.POST, by=request.user)
    except runs.InvalidAnswers:
        return _again(request, run, StepForm(request.POST, step=step))
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        done = "is submitted for approval" if step.needs_approval else "is done"
        messages.success(request, f"{step} {done}.")
    return _to_request(request, ticket)


@require_POST
@agent_required
def approve(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    run = cards.get_run(ticket)
    try:
        submission = runs.approve_step(run, by=request.user)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{submission.step} is approved.")
    return _to_request(request, ticket)


@require_POST
@agent_required
def send_back(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    run = cards.get_run(ticket)
    try:
        submission = runs.send_back_step(
            run, by=request.user, reason=request.POST.get("reason", "")
        )
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{submission.step} is sent back.")
    return _to_request(request, ticket)


def _again(request, run, form):
    """The card with the form's errors (htmx), or the request page with them as messages."""
    if request.headers.get("HX-Request"):
        context = cards.card_context(run, user=request.user, form=form)
        return render(request, "processes/_card.html", context)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("desk:request", number=run.ticket.number)


def _to_request(request, ticket):
    """The whole request page again: the step's article is on its timeline now."""
    url = reverse("desk:request", args=[ticket.number])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _startable(user):
    return Process.objects.filter(is_active=True, queue__in=queues_for(user)).select_related(
        "queue"
    )


@require_GET
@agent_required
def process_list(request):
    processes = _startable(request.user)
    return render(request, "processes/list.html", {"processes": processes, "nav": "processes"})


@agent_required
def start(request, pk):
    process = get_object_or_404(_startable(request.user), pk=pk)
    form = StartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = Contact.objects.filter(email__iexact=form.cleaned_data["email"]).first()
        if contact is None:
            form.add_error("email", "No contact has this address; add them first.")
        else:
            try:
                run = runs.start_process(
                    process, contact=contact, subject=form.cleaned_data["subject"], by=request.user
                )
            except WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{process} is started: {run.ticket.number}.")
                return redirect("desk:request", number=run.ticket.number)
    context = {"process": process, "form": form, "nav": "processes"}
    return render(request, "processes/start.html", context)


app_name = "processes"
urlpatterns = [
    path("", process_list, name="list"),
    path("<int:pk>/start/", start, name="start"),
    path("requests/<str:number>/", process_card, name="card"),
    path("requests/<str:number>/steps/<int:pk>/", submit, name="submit"),
    path("requests/<str:number>/approve/", approve, name="approve"),
    path("requests/<str:number>/send-back/", send_back, name="send_back"),
]
