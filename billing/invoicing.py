"""Invoices: made of a request's charges when it is closed as resolved, in the close's own
transaction (tickets.events.subscribe_within), numbered without gaps per year; their PDF
rendered and emailed to the contact after the commit, through the request's outbox. A
credit note cancels an invoice; nothing deletes one."""

from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing import money, pdf
from billing.charges import BillingError
from billing.models import CreditNote, Invoice, InvoiceLine, InvoiceTemplate
from tickets import workflow
from tickets.models import DomainEvent, Ticket
from tickets.numbering import next_number
from tickets.workflow import Actor


def invoice_resolved_close(event: DomainEvent) -> None:
    if event.payload.get("new") is True:
        invoice_request(event.ticket, now=event.at)


def invoice_request(ticket: Ticket, *, now: datetime | None = None) -> Invoice | None:
    """The request's invoice, made now if it has charges and none yet (a request closed,
    reopened and closed again keeps its first). Call under the request's lock."""
    if ticket.contact_id is None or Invoice.objects.filter(ticket=ticket).exists():
        return None
    charges = list(ticket.charges.select_related("item"))
    if not charges:
        return None
    now = now or timezone.now()
    currency = charges[0].currency
    invoice = Invoice(
        number=next_number(settings.INVOICE_NUMBERING, now),
        ticket=ticket,
        contact_id=ticket.contact_id,
        issued_at=now,
        currency=currency,
    )
    lines = []
    for position, charge in enumerate(charges, start=1):
        net, tax, total = charge.amounts
        lines.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                code=charge.item.code if charge.item else "",
                description=charge.description,
                serial_number=charge.serial_number,
                quantity=charge.quantity,
                unit_price=charge.unit_price,
                discount_percent=charge.discount_percent,
                tax_rate=charge.tax_rate,
                net=net,
                tax=tax,
                total=total,
            )
        )
    invoice.net_total = sum(line.net for line in lines)
    invoice.tax_total = sum(line.tax for line in lines)
    invoice.total = invoice.net_total + invoice.tax_total
    invoice.save()
    InvoiceLine.objects.bulk_create(lines)
    workflow.record_change(
        ticket, by=None, action="invoiced", field="invoice", new=invoice.number, now=now
    )
    from billing import tasks

    transaction.on_commit(lambda: tasks.send_invoice.delay(invoice.pk), robust=True)
    return invoice


def template() -> InvoiceTemplate:
    """The newest active template, or the built-in wording."""
    return InvoiceTemplate.objects.filter(is_active=True).first() or InvoiceTemplate(
        name="Built-in", seller=settings.BILLING_SELLER
    )


def placeholders(invoice: Invoice) -> dict[str, str]:
    return {
        "number": invoice.number,
        "request": invoice.ticket.number,
        "contact_name": invoice.contact.name or invoice.contact.email,
        "issued": invoice.issued_at.date().isoformat(),
        "total": money.shown(invoice.total, invoice.currency),
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Placeholders filled; an unknown one stays as typed (an admin's typo is visible)."""
    for name, value in values.items():
        text = text.replace(f"{{{name}}}", value)
    return text


@transaction.atomic
def send_invoice(invoice: Invoice) -> None:
    """Render the PDF (once) and email it to the contact from the request."""
    invoice = (
        Invoice.objects.select_for_update().select_related("ticket", "contact").get(pk=invoice.pk)
    )
    if invoice.emailed_at is not None:
        return  # a task delivered twice
    layout = template()
    if not invoice.pdf:
        invoice.pdf.save(
            f"{invoice.number}.pdf", ContentFile(pdf.render(invoice, layout)), save=False
        )
        invoice.save(update_fields=["pdf"])
    values = placeholders(invoice)
    invoice.pdf.open("rb")
    attachment = ContentFile(invoice.pdf.read(), name=f"{invoice.number}.pdf")
    invoice.pdf.close()
    attachment.content_type = "application/pdf"
    workflow.send_email(
        invoice.ticket,
        by=None,
        to=invoice.contact.email,
        subject=fill(layout.email_subject, values),
        body=fill(layout.email_body, values),
        attachments=[attachment],
        automatic=True,
        action="invoice_sent",
    )
    invoice.emailed_at = timezone.now()
    invoice.save(update_fields=["emailed_at"])


@transaction.atomic
def issue_credit_note(
    invoice: Invoice, *, by: Actor, reason: str, now: datetime | None = None
) -> CreditNote:
    """Cancel the invoice by a credit note of the same amounts (once)."""
    if not reason.strip():
        raise BillingError("Say why the invoice is cancelled.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if CreditNote.objects.filter(invoice=invoice).exists():
        raise BillingError(f"{invoice.number} is cancelled already.")
    now = now or timezone.now()
    note = CreditNote.objects.create(
        number=next_number(settings.CREDIT_NOTE_NUMBERING, now),
        invoice=invoice,
        issued_at=now,
        issued_by=by,
        reason=reason.strip(),
    )
    workflow.record_change(
        invoice.ticket, by=by, action="credited", field="invoice", old=invoice.number,
        new=note.number, now=now,
    )  # fmt: skip
    return note
