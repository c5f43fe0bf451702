"""Processes on the portal: the process card of a customer's request and their steps,
and the processes they may start themselves."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from processes import cards, runs
from processes.forms import StepForm
from processes.models import Process
from tickets.access import get_ticket_for_contact
from tickets.views.portal import contact_required
from tickets.workflow import WorkflowError


@require_GET
@contact_required
def process_list(request):
    processes = Process.objects.filter(is_active=True, available_on_portal=True)
    return render(
        request, "processes/portal_list.html", {"processes": processes, "nav": "processes"}
    )


@require_POST
@contact_required
def start(request, pk):
    process = get_object_or_404(Process, pk=pk, is_active=True, available_on_portal=True)
    try:
        run = runs.start_process(process, contact=request.contact)
    except WorkflowError as error:
        messages.error(request, str(error))
        return redirect("portal_processes")
    messages.success(request, f"Thank you: your request is {run.ticket.number}.")
    return redirect("portal:request", number=run.ticket.number)


@require_GET
@contact_required
def process_card(request, number):
    ticket = get_ticket_for_contact(request.contact, number)
    run = cards.run_of(ticket)
    if run is None:
        return HttpResponse("")
    context = cards.card_context(run, contact=request.contact)
    return render(request, "processes/_portal_card.html", context)


@require_POST
@contact_required
def submit(request, number, pk):
    ticket = get_ticket_for_contact(request.contact, number)
    run = cards.get_run(ticket)
    step = get_object_or_404(run.process.steps, pk=pk)
    try:
        runs.submit_step(run, step, request.POST, contact=request.contact)
    except runs.InvalidAnswers:
        form = StepForm(request.POST, step=step)
        if request.headers.get("HX-Request"):
            context = cards.card_context(run, contact=request.contact, form=form)
            return render(request, "processes/_portal_card.html", context)
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Thank you: your answers are recorded.")
    url = reverse("portal:request", args=[ticket.number])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


urlpatterns = [
    path("portal/processes/", process_list, name="portal_processes"),
    path("portal/processes/<int:pk>/start/", start, name="portal_process_start"),
    path("portal/requests/<str:number>/process/", process_card, name="portal_process"),
    path(
        "portal/requests/<str:number>/process/steps/<int:pk>/",
        submit,
        name="portal_process_submit",
    ),
]
