"""A contact's invoices on the portal: their own only (another's is 404)."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from billing import money
from billing.models import Invoice
from billing.views import invoice_pdf_response
from tickets.views.portal import contact_required

PAGE_SIZE = 25


@require_GET
@contact_required
def invoice_list(request):
    invoices = Invoice.objects.filter(contact=request.contact).select_related(
        "ticket", "credit_note"
    )
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(invoice, money.shown(invoice.total, invoice.currency)) for invoice in page]
    return render(
        request, "billing/portal_invoices.html", {"page": page, "rows": rows, "nav": "invoices"}
    )


@require_GET
@contact_required
def invoice_pdf(request, number):
    return invoice_pdf_response(get_object_or_404(Invoice, contact=request.contact, number=number))


urlpatterns = [
    path("portal/invoices/", invoice_list, name="portal_invoices"),
    path("portal/invoices/<str:number>/pdf/", invoice_pdf, name="portal_invoice_pdf"),
]
