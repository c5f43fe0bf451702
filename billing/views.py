"""Billing in the desk: the charges card of the request page (loaded into it by htmx),
the affected service, the invoices list with their PDFs and credit notes, and the
subscriptions card of the contact page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from billing import charges, invoicing, money
from billing.filters import InvoiceFilter
from billing.forms import AffectedServiceForm, ChangeChargeForm, ChargeForm, CreditNoteForm
from billing.models import AffectedService, Invoice, Subscription
from tickets.access import get_ticket_for_agent, visible_tickets
from tickets.models import Contact, Ticket
from tickets.views.desk import agent_required
from tickets.workflow import WorkflowError

PAGE_SIZE = 50


def card_context(ticket: Ticket, **forms) -> dict:
    lines = list(ticket.charges.select_related("item"))
    amounts = [line.amounts for line in lines]
    currency = lines[0].currency if lines else None
    totals = [sum(column) for column in zip(*amounts, strict=True)] if lines else []
    affected = (
        AffectedService.objects.filter(ticket=ticket)
        .select_related("subscription__service")
        .first()
    )
    return {
        "ticket": ticket,
        "rows": [
            {
                "charge": line,
                "unit_price": money.shown(line.unit_price, line.currency),
                "amounts": [money.shown(a, line.currency) for a in amount],
                "edit": forms.get("change_forms", {}).get(line.pk) or change_form(line),
            }
            for line, amount in zip(lines, amounts, strict=True)
        ],
        "totals": [money.shown(t, currency) for t in totals],
        "editable": ticket.is_open,
        "invoice": Invoice.objects.filter(ticket=ticket).select_related("credit_note").first(),
        "affected": affected,
        "charge_form": forms.get("charge_form") or ChargeForm(),
        "service_form": forms.get("service_form")
        or AffectedServiceForm(
            ticket=ticket, initial={"subscription": affected.subscription_id if affected else None}
        ),
    }


def change_form(charge, data=None) -> ChangeChargeForm:
    fields = ("description", "quantity", "unit_price", "discount_percent", "serial_number")
    return ChangeChargeForm(
        data,
        charge=charge,
        initial={name: getattr(charge, name) for name in fields},
        auto_id=f"charge{charge.pk}_%s",  # one form a line: ids apart
    )


def _card(request, ticket: Ticket, **forms):
    """The card again (htmx), or the request page with a message (a plain form post)."""
    if request.headers.get("HX-Request"):
        # The view's request will do: the card shows its charges (read afresh) and whether
        # it is open, which a charge does not change.
        return render(request, "billing/_charges.html", card_context(ticket, **forms))
    for form in forms.values():
        for errors in form.errors.values() if hasattr(form, "errors") else []:
            for error in errors:
                messages.error(request, error)
    return redirect("desk:request", number=ticket.number)


@require_GET
@agent_required
def charges_card(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    return render(request, "billing/_charges.html", card_context(ticket))


@require_POST
@agent_required
def charge_add(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    form = ChargeForm(request.POST)
    if form.is_valid():
        try:
            charges.add_charge(ticket, by=request.user, **form.cleaned_data)
        except WorkflowError as error:
            form.add_error(None, str(error))
        else:
            form = None
    return _card(request, ticket, charge_form=form)


@require_POST
@agent_required
def charge_change(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    charge = get_object_or_404(ticket.charges, pk=pk)
    form = change_form(charge, request.POST)
    if form.is_valid():
        try:
            charges.change_charge(charge, by=request.user, **form.cleaned_data)
        except WorkflowError as error:
            form.add_error(None, str(error))
        else:
            return _card(request, ticket)
    return _card(request, ticket, change_forms={charge.pk: form})


@require_POST
@agent_required
def charge_remove(request, number, pk):
    ticket = get_ticket_for_agent(request.user, number)
    charge = get_object_or_404(ticket.charges, pk=pk)
    form = ChargeForm()
    try:
        charges.remove_charge(charge, by=request.user)
    except WorkflowError as error:
        form.add_error(None, str(error))
    return _card(request, ticket, charge_form=form)


@require_POST
@agent_required
def affected_service(request, number):
    ticket = get_ticket_for_agent(request.user, number)
    form = AffectedServiceForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            charges.set_affected_service(ticket, form.cleaned_data["subscription"], by=request.user)
        except WorkflowError as error:
            form.add_error("subscription", str(error))
        else:
            return _card(request, ticket)
    return _card(request, ticket, service_form=form)


# Invoices


def _invoices_for(user):
    return Invoice.objects.filter(ticket__in=visible_tickets(user).values("pk"))


@require_GET
@agent_required
def invoice_list(request):
    found = _invoices_for(request.user).select_related("ticket", "contact", "credit_note")
    filterset = InvoiceFilter(request.GET, queryset=found)
    invoices = filterset.qs if filterset.is_valid() else Invoice.objects.none()
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [(invoice, money.shown(invoice.total, invoice.currency)) for invoice in page]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "nav": "invoices",
        "credit_form": CreditNoteForm(),
    }
    return render(request, "billing/invoices.html", context)


def invoice_pdf_response(invoice: Invoice) -> FileResponse:
    if not invoice.pdf:
        raise Http404("The invoice's PDF is being made; try again in a minute.")
    return FileResponse(
        invoice.pdf.open("rb"), filename=f"{invoice.number}.pdf", content_type="application/pdf"
    )


@require_GET
@agent_required
def invoice_pdf(request, number):
    return invoice_pdf_response(get_object_or_404(_invoices_for(request.user), number=number))


@require_POST
@agent_required
@permission_required("billing.add_creditnote", raise_exception=True)
def credit_note(request, number):
    invoice = get_object_or_404(_invoices_for(request.user), number=number)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the invoice is cancelled.")
        return redirect("billing:invoices")
    try:
        note = invoicing.issue_credit_note(
            invoice, by=request.user, reason=form.cleaned_data["reason"]
        )
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{invoice.number} is cancelled by credit note {note.number}.")
    return redirect("billing:invoices")


@require_GET
@agent_required
def contact_subscriptions(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    subscriptions = Subscription.objects.filter(contact=contact).select_related("service")
    return render(
        request,
        "billing/_subscriptions.html",
        {"contact": contact, "subscriptions": subscriptions},
    )


app_name = "billing"
urlpatterns = [
    path("requests/<str:number>/charges/", charges_card, name="charges"),
    path("requests/<str:number>/charges/add/", charge_add, name="charge_add"),
    path("requests/<str:number>/charges/<int:pk>/", charge_change, name="charge_change"),
    path("requests/<str:number>/charges/<int:pk>/remove/", charge_remove, name="charge_remove"),
    path("requests/<str:number>/affected-service/", affected_service, name="affected_service"),
    path("invoices/", invoice_list, name="invoices"),
    path("invoices/<str:number>/pdf/", invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/credit-note/", credit_note, name="credit_note"),
    path("contacts/<int:pk>/subscriptions/", contact_subscriptions, name="subscriptions"),
]
