"""An invoice as a PDF (ReportLab: pure Python, nothing to install on the server), laid
out here and worded by the admin's InvoiceTemplate."""

from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.utils.html import escape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing import money
from billing.models import Invoice, InvoiceTemplate


def number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def render(invoice: Invoice, layout: InvoiceTemplate) -> bytes:
    from billing.invoicing import fill, placeholders

    values = placeholders(invoice)
    styles = getSampleStyleSheet()
    styles.add(ParagraphStyle("Cell", parent=styles["Normal"], fontSize=8, leading=10))
    out = BytesIO()
    margin = 18 * mm
    document = SimpleDocTemplate(
        out, pagesize=A4, title=invoice.number, author=settings.BILLING_SELLER,
        leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin,
    )  # fmt: skip

    def text(value: str, style: str = "Normal") -> Paragraph:
        return Paragraph(escape(value).replace("\n", "<br/>"), styles[style])

    contact = invoice.contact
    billed = "\n".join(part for part in (contact.name, contact.email, contact.address) if part)
    shown = lambda amount: money.shown(amount, invoice.currency)  # noqa: E731
    rows = [["#", "Item", "Qty", "Unit price", "Disc. %", "Tax %", "Net", "Tax", "Total"]]
    for line in invoice.lines.all():
        item = line.description + (f" (S/N {line.serial_number})" if line.serial_number else "")
        rows.append([
            str(line.position), text(f"{line.code} {item}".strip(), "Cell"), number(line.quantity),
            shown(line.unit_price), number(line.discount_percent), number(line.tax_rate),
            shown(line.net), shown(line.tax), shown(line.total),
        ])  # fmt: skip
    rows += [
        ["", "", "", "", "", "", "", "Net", shown(invoice.net_total)],
        ["", "", "", "", "", "", "", "Tax", shown(invoice.tax_total)],
        ["", "", "", "", "", "", "", "Total", shown(invoice.total)],
    ]
    table = Table(
        rows,
        colWidths=[8 * mm, 52 * mm, 12 * mm, 22 * mm, 13 * mm, 12 * mm, 20 * mm, 17 * mm, 22 * mm],
    )
    table.setStyle(
        TableStyle([
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("LINEABOVE", (0, -3), (-1, -3), 0.5, colors.black),
            ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTNAME", (-2, -1), (-1, -1), "Helvetica-Bold"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ])
    )  # fmt: skip
    story = [
        text(layout.seller),
        Spacer(1, 8 * mm),
        text(fill(layout.heading, values), "Title"),
        text(f"Issued {values['issued']} · for request {invoice.ticket.number}"),
        Spacer(1, 6 * mm),
        text("Billed to", "Heading4"),
        text(billed),
        Spacer(1, 6 * mm),
        table,
    ]
    if invoice.is_cancelled:
        story += [
            Spacer(1, 4 * mm),
            text(f"Cancelled by credit note {invoice.credit_note.number}.", "Heading4"),
        ]
    if layout.footer:
        story += [Spacer(1, 10 * mm), text(fill(layout.footer, values))]
    document.build(story)
    return out.getvalue()
