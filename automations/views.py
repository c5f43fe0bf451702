"""The desk's side of automations: the rules as agents may read them, and macros run on
one request (the request page's macro panel) or on the requests ticked on a list."""

import django_filters
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from automations import engine
from automations.models import Macro, Rule, Trigger
from tickets.access import get_ticket_for_agent, visible_tickets
from tickets.views.desk import agent_required


class RuleFilter(django_filters.FilterSet):
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, empty_label="Any trigger")
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = Rule
        fields = ["trigger", "is_active"]


@require_GET
@agent_required
def rule_list(request):
    """Every rule, read-only: what happens to requests on its own, and why."""
    rules = RuleFilter(request.GET, queryset=engine.with_parts(Rule.objects.all()))
    listed = [(rule, engine.problems(rule)) for rule in rules.qs]
    return render(
        request, "automations/rules.html", {"filter": rules, "rules": listed, "nav": "rules"}
    )


def macros_for(ticket) -> list[Macro]:
    """The active macros offered on the request's queue (a macro without queues: on all)."""
    return list(
        Macro.objects.filter(is_active=True)
        .filter(Q(queues=None) | Q(queues=ticket.queue_id))
        .distinct()
        .order_by("name")
    )


@require_GET
@agent_required
def macro_panel(request, number: str):
    ticket = get_ticket_for_agent(request.user, number)
    context = {"ticket": ticket, "macros": macros_for(ticket)}
    return render(request, "automations/_macro_panel.html", context)


@require_POST
@agent_required
def run_macro(request, number: str, pk: int):
    ticket = get_ticket_for_agent(request.user, number)
    macro = get_object_or_404(Macro, pk=pk, is_active=True)
    if macro not in macros_for(ticket):
        raise Http404("No such macro on this queue.")
    result = engine.apply_macro(macro, ticket, by=request.user)
    if result.error:
        messages.error(request, f"{macro.name} was not run: {result.error}")
    else:
        messages.success(request, f"{macro.name}: {'; '.join(result.changes) or 'nothing to do'}.")
    return redirect("desk:request", number=ticket.number)


@require_GET
@agent_required
def bulk_macro_panel(request):
    macros = Macro.objects.filter(is_active=True).order_by("name")
    return render(request, "automations/_bulk_macro_panel.html", {"macros": macros})


@require_POST
@agent_required
def run_macro_in_bulk(request):
    """The macro on each request ticked on the list; one it cannot run on (a refusal of
    the workflow, a queue it is not offered on) is reported and left as it was."""
    back = f"/desk/requests/?{request.POST.get('query', '')}"
    ids = request.POST.getlist("tickets")
    macro = Macro.objects.filter(pk=request.POST.get("macro") or 0, is_active=True).first()
    if macro is None:
        messages.error(request, "Choose the macro to run.")
        return redirect(back)
    if not ids or not all(value.isdigit() for value in ids):
        messages.error(request, "Select at least one request first.")
        return redirect(back)
    tickets = list(
        visible_tickets(request.user).filter(pk__in=ids).select_related("queue").order_by("pk")
    )
    if len(tickets) != len(set(ids)):
        raise Http404("No such request.")
    queues = set(macro.queues.values_list("pk", flat=True))
    refusals = []
    for ticket in tickets:
        if queues and ticket.queue_id not in queues:
            refusals.append(f"{ticket.number}: not offered on {ticket.queue.name}.")
            continue
        result = engine.apply_macro(macro, ticket, by=request.user)
        if result.error:
            refusals.append(f"{ticket.number}: {result.error}")
    done = len(tickets) - len(refusals)
    if done:
        messages.success(request, f"{macro.name} ran on {done} request{'s' if done != 1 else ''}.")
    if refusals:
        messages.error(request, f"Not run on {len(refusals)}: " + " ".join(refusals))
    return redirect(back)
