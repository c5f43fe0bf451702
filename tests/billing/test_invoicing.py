"""Charges and invoices: lines rounded and totalled in Decimal, locked once closed, one
invoice per resolved close (never for an unresolved one, never two), its PDF real, a
credit note to cancel it."""

import threading
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from pypdf import PdfReader

from billing import charges, invoicing
from billing.charges import BillingError
from billing.models import AffectedService, CreditNote, Invoice
from tests.factories import ItemFactory, SubscriptionFactory, TicketFactory
from tickets import workflow
from tickets.workflow import WorkflowError

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, subject="New router")


def test_a_line_is_rounded_on_the_line_and_totalled(ticket, agent):
    item = ItemFactory(unit_price=D("19.99"), tax_rate=D("20"))
    line = charges.add_charge(ticket, by=agent, item=item, quantity=D(3), discount_percent=D("10"))
    # 59.97 less 10 % is 53.973 → 53.97; tax 10.794 → 10.79
    assert line.amounts == (D("53.97"), D("10.79"), D("64.76"))


def test_a_resolved_close_makes_one_invoice_with_the_charges(ticket, agent, committed, mailoutbox):
    charges.add_charge(
        ticket, by=agent, item=ItemFactory(name="Setup", unit_price=D("100")), quantity=D(2)
    )
    charges.add_charge(
        ticket, by=agent, description="Call-out", unit_price=D("35.50"), quantity=D(1)
    )
    with committed():
        workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get()
    assert invoice.number.startswith("INV-")
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        D("235.50"),
        D("40"),
        D("275.50"),
    )
    assert [(line.position, line.description) for line in invoice.lines.all()] == [
        (1, "Setup"),
        (2, "Call-out"),
    ]
    [mail] = mailoutbox
    assert mail.to == [ticket.contact.email]
    assert mail.attachments[0][0] == f"{invoice.number}.pdf"


def test_the_pdf_says_the_number_the_lines_and_the_total(ticket, agent, committed):
    charges.add_charge(ticket, by=agent, description="Router", unit_price=D("89.90"), quantity=D(1))
    with committed():
        workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get()
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(invoice.pdf.read())).pages)
    assert invoice.number in text
    assert "Router" in text
    assert "€89.90" in text
    assert ticket.number in text


def test_no_invoice_for_an_unresolved_close_or_without_charges(ticket, agent, queue):
    charges.add_charge(ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1))
    workflow.close_ticket(ticket, resolved=False, by=agent)
    empty = TicketFactory(queue=queue, by=agent)
    workflow.close_ticket(empty, resolved=True, by=agent)
    assert not Invoice.objects.exists()


def test_reopened_and_closed_again_keeps_its_one_invoice(ticket, agent):
    charges.add_charge(ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1))
    workflow.close_ticket(ticket, resolved=True, by=agent)
    workflow.reactivate_ticket(ticket, by=agent)
    charges.add_charge(
        ticket, by=agent, description="Second visit", unit_price=D("10"), quantity=D(1)
    )
    workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get()
    assert invoice.total == D("10.00")


def test_later_catalogue_prices_do_not_change_an_invoice(ticket, agent):
    item = ItemFactory(unit_price=D("40"), tax_rate=D(0))
    charges.add_charge(ticket, by=agent, item=item, quantity=D(1))
    workflow.close_ticket(ticket, resolved=True, by=agent)
    item.unit_price = D("99")
    item.save()
    assert Invoice.objects.get().lines.get().unit_price == D("40")


def test_charges_are_locked_once_closed(ticket, agent):
    line = charges.add_charge(
        ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1)
    )
    workflow.close_ticket(ticket, resolved=False, by=agent)
    with pytest.raises(WorkflowError, match="closed; reactivate it before you change its charges"):
        charges.add_charge(ticket, by=agent, description="Late", unit_price=D("5"), quantity=D(1))
    with pytest.raises(WorkflowError, match="closed"):
        charges.remove_charge(line, by=agent)
    assert ticket.charges.count() == 1


def test_every_change_of_a_charge_is_in_the_history(ticket, agent):
    line = charges.add_charge(
        ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1)
    )
    charges.change_charge(
        line,
        by=agent,
        quantity=D(2),
        description="Visit",
        unit_price=D("10"),
        discount_percent=D(0),
    )
    charges.remove_charge(line, by=agent)
    actions = list(
        ticket.events.filter(field="charges").values_list("action", "old_value", "new_value")
    )
    assert actions == [
        ("charge_added", "", "1 × Visit"),
        ("charge_changed", "1 × Visit", "2 × Visit"),
        ("charge_removed", "2 × Visit", ""),
    ]


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({"quantity": D(-1)}, "more than zero"),
        ({"currency": "XYZ"}, "not an ISO 4217"),
        ({"unit_price": D("9.999")}, "at most 2 decimals"),
        ({"currency": "JPY", "unit_price": D("100.5")}, "no decimals"),
        ({"discount_percent": D(120)}, "0 to 100"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_saved(ticket, agent, fields, reason):
    line = {"description": "Visit", "unit_price": D("10"), "quantity": D(1)} | fields
    with pytest.raises(BillingError, match=reason):
        charges.add_charge(ticket, by=agent, **line)
    assert not ticket.charges.exists()
    assert not ticket.events.filter(field="charges").exists()


def test_one_currency_per_request(ticket, agent):
    charges.add_charge(ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1))
    with pytest.raises(BillingError, match="charged in EUR"):
        charges.add_charge(ticket, by=agent, item=ItemFactory(currency="USD"), quantity=D(1))


def test_a_traceable_product_needs_its_serial_number(ticket, agent):
    router = ItemFactory(kind="product", is_traceable=True, name="Router X1")
    with pytest.raises(BillingError, match="serial number"):
        charges.add_charge(ticket, by=agent, item=router, quantity=D(1))
    line = charges.add_charge(ticket, by=agent, item=router, quantity=D(1), serial_number="SN-42")
    assert line.serial_number == "SN-42"
    with pytest.raises(BillingError, match="Only a traceable"):
        charges.add_charge(ticket, by=agent, item=ItemFactory(), quantity=D(1), serial_number="X")


def test_a_credit_note_cancels_an_invoice_once(ticket, agent):
    charges.add_charge(ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1))
    workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get()
    note = invoicing.issue_credit_note(invoice, by=agent, reason="Charged by mistake")
    assert note.number.startswith("CN-")
    with pytest.raises(BillingError, match="cancelled already"):
        invoicing.issue_credit_note(invoice, by=agent, reason="Again")
    assert CreditNote.objects.count() == 1
    assert Invoice.objects.get().is_cancelled


def test_only_the_contacts_own_subscription_can_be_affected(ticket, agent):
    theirs = SubscriptionFactory(contact=ticket.contact)
    charges.set_affected_service(ticket, theirs, by=agent)
    assert AffectedService.objects.get(ticket=ticket).subscription == theirs
    with pytest.raises(BillingError, match="request's contact"):
        charges.set_affected_service(ticket, SubscriptionFactory(), by=agent)
    charges.set_affected_service(ticket, None, by=agent)
    assert not AffectedService.objects.filter(ticket=ticket).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_make_one_invoice(postgres, queue, agent):
    ticket = TicketFactory(queue=queue, by=agent)
    charges.add_charge(ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1))
    barrier, errors = threading.Barrier(2), []

    def close():
        try:
            barrier.wait()
            workflow.close_ticket(type(ticket).objects.get(pk=ticket.pk), resolved=True, by=agent)
        except Exception as error:  # the second close is refused: it is closed already
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Invoice.objects.filter(ticket=ticket).count() == 1
    assert len(errors) <= 1
