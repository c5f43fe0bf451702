"""Billing's pages: the charges card of the request page, the affected service and its
list filter, the desk's and the portal's invoices (a contact sees only their own)."""

from decimal import Decimal

import pytest

from billing import charges
from billing.models import Invoice
from tests.factories import (
    ItemFactory,
    PortalContactFactory,
    QueueFactory,
    SubscriptionFactory,
    TicketFactory,
)
from tickets import workflow

pytestmark = pytest.mark.django_db
D = Decimal
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ticket(queue, agent):
    return TicketFactory(queue=queue, by=agent, subject="Router broken")


def invoiced(ticket, agent, price="120"):
    charges.add_charge(ticket, by=agent, description="Repair", unit_price=D(price), quantity=D(1))
    workflow.close_ticket(ticket, resolved=True, by=agent)
    invoice = Invoice.objects.get(ticket=ticket)
    from billing import invoicing

    invoicing.send_invoice(invoice)
    return invoice


def test_the_card_adds_a_charge_and_shows_the_totals(agent_client, ticket):
    item = ItemFactory(name="Call-out", unit_price=D("45.00"), tax_rate=D("20"))
    url = f"/desk/billing/requests/{ticket.number}/charges/add/"
    card = agent_client.post(url, {"item": item.pk, "quantity": "2"}, **HTMX).content.decode()
    assert "Call-out" in card
    assert "€108.00" in card  # 90.00 net + 18.00 tax
    assert ticket.charges.count() == 1


def test_a_bad_charge_comes_back_with_its_errors_and_nothing_saved(agent_client, ticket):
    url = f"/desk/billing/requests/{ticket.number}/charges/add/"
    data = {"description": "Visit", "quantity": "-1", "unit_price": "9.999"}
    card = agent_client.post(url, data, **HTMX).content.decode()
    assert "The quantity must be more than zero." in card
    assert "EUR prices have at most 2 decimals" in card
    assert not ticket.charges.exists()


def test_after_close_the_card_is_locked_and_a_late_charge_is_refused(agent_client, ticket, agent):
    workflow.close_ticket(ticket, resolved=False, by=agent)
    card = agent_client.get(f"/desk/billing/requests/{ticket.number}/charges/").content.decode()
    assert "Add the charge" not in card
    url = f"/desk/billing/requests/{ticket.number}/charges/add/"
    answer = agent_client.post(
        url, {"description": "Late", "quantity": "1", "unit_price": "5"}, **HTMX
    )
    assert "closed; reactivate it before you change its charges" in answer.content.decode()
    assert not ticket.charges.exists()


def test_the_card_of_a_request_in_another_queue_is_404(agent_client, agent):
    hidden = TicketFactory(queue=QueueFactory(), by=agent)
    assert agent_client.get(f"/desk/billing/requests/{hidden.number}/charges/").status_code == 404


def test_only_the_contacts_subscriptions_are_offered_and_the_list_filters_by_them(
    agent_client, ticket, queue, agent
):
    theirs = SubscriptionFactory(contact=ticket.contact)
    other = SubscriptionFactory()
    card = agent_client.get(f"/desk/billing/requests/{ticket.number}/charges/").content.decode()
    assert theirs.reference in card and other.reference not in card
    url = f"/desk/billing/requests/{ticket.number}/affected-service/"
    refused = agent_client.post(url, {"subscription": other.pk}, **HTMX).content.decode()
    assert "Select a valid choice" in refused
    agent_client.post(url, {"subscription": theirs.pk}, **HTMX)
    TicketFactory(queue=queue, by=agent, subject="Unrelated")
    listing = agent_client.get(f"/desk/requests/?service={theirs.service_id}").content.decode()
    assert "Router broken" in listing and "Unrelated" not in listing


def test_the_desks_invoices_and_their_pdf(agent_client, ticket, agent):
    invoice = invoiced(ticket, agent)
    page = agent_client.get("/desk/billing/invoices/?q=" + ticket.number).content.decode()
    assert invoice.number in page and "€120.00" in page
    pdf = agent_client.get(f"/desk/billing/invoices/{invoice.number}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_the_invoice_list_costs_the_same_queries_for_many(
    agent_client, queue, agent, django_assert_max_num_queries
):
    for _ in range(8):
        invoiced(TicketFactory(queue=queue, by=agent), agent)
    with django_assert_max_num_queries(8):
        page = agent_client.get("/desk/billing/invoices/")
    assert page.content.decode().count("/pdf/") == 8


def test_an_agent_without_the_permission_cannot_issue_a_credit_note(agent_client, ticket, agent):
    invoice = invoiced(ticket, agent)
    url = f"/desk/billing/invoices/{invoice.number}/credit-note/"
    assert agent_client.post(url, {"reason": "Mistake"}).status_code == 403
    from django.contrib.auth.models import Permission

    agent.user_permissions.add(Permission.objects.get(codename="add_creditnote"))
    agent_client.post(url, {"reason": "Mistake"})
    assert Invoice.objects.get().is_cancelled


def test_a_contact_sees_only_their_own_invoices(client, queue, agent):
    mine = PortalContactFactory()
    theirs = PortalContactFactory()
    my_invoice = invoiced(TicketFactory(queue=queue, by=agent, contact=mine), agent)
    their_invoice = invoiced(TicketFactory(queue=queue, by=agent, contact=theirs), agent)
    client.force_login(mine.user)
    page = client.get("/portal/invoices/").content.decode()
    assert my_invoice.number in page and their_invoice.number not in page
    assert client.get(f"/portal/invoices/{my_invoice.number}/pdf/").status_code == 200
    assert client.get(f"/portal/invoices/{their_invoice.number}/pdf/").status_code == 404


def test_the_contact_page_shows_their_subscriptions(agent_client, ticket):
    subscription = SubscriptionFactory(contact=ticket.contact)
    card = agent_client.get(f"/desk/billing/contacts/{ticket.contact.pk}/subscriptions/")
    assert subscription.service.name in card.content.decode()


def test_the_invoice_list_filters_by_state(agent_client, queue, agent):
    kept = invoiced(TicketFactory(queue=queue, by=agent), agent)
    cancelled = invoiced(TicketFactory(queue=queue, by=agent), agent)
    from billing import invoicing

    invoicing.issue_credit_note(cancelled, by=agent, reason="Mistake")
    page = agent_client.get("/desk/billing/invoices/?state=cancelled").content.decode()
    assert cancelled.number in page and kept.number not in page


def test_a_charge_is_edited_and_a_bad_edit_comes_back_with_its_error(agent_client, ticket, agent):
    line = charges.add_charge(
        ticket, by=agent, description="Visit", unit_price=D("10"), quantity=D(1)
    )
    url = f"/desk/billing/requests/{ticket.number}/charges/{line.pk}/"
    data = {
        "description": "Long visit",
        "quantity": "3",
        "unit_price": "12.50",
        "discount_percent": "0",
    }
    card = agent_client.post(url, data, **HTMX).content.decode()
    assert "Long visit" in card and "€37.50" in card  # 3 × 12.50, no tax
    bad = agent_client.post(url, data | {"quantity": "0"}, **HTMX).content.decode()
    assert "The quantity must be more than zero." in bad
    line.refresh_from_db()
    assert line.quantity == D(3)


def test_a_charge_of_another_request_cannot_be_changed_or_removed_through_this_one(
    agent_client, ticket, queue, agent
):
    other = TicketFactory(queue=queue, by=agent)
    theirs = charges.add_charge(
        other, by=agent, description="Visit", unit_price=D("10"), quantity=D(1)
    )
    base = f"/desk/billing/requests/{ticket.number}/charges/{theirs.pk}"
    data = {"description": "Mine now", "quantity": "1", "unit_price": "1", "discount_percent": "0"}
    assert agent_client.post(f"{base}/", data, **HTMX).status_code == 404
    assert agent_client.post(f"{base}/remove/", **HTMX).status_code == 404
    theirs.refresh_from_db()
    assert theirs.description == "Visit"


def test_an_empty_charge_form_says_what_is_missing(agent_client, ticket):
    card = agent_client.post(
        f"/desk/billing/requests/{ticket.number}/charges/add/", {}, **HTMX
    ).content.decode()
    assert "Say what is charged, or pick a catalogue item." in card
    assert "This field is required." in card  # the quantity
    assert not ticket.charges.exists()


def test_a_plain_post_with_errors_goes_back_to_the_request_with_them(agent_client, ticket):
    answer = agent_client.post(
        f"/desk/billing/requests/{ticket.number}/charges/add/",
        {"description": "Visit", "quantity": "0", "unit_price": "5"},
        follow=True,
    )
    assert "The quantity must be more than zero." in answer.content.decode()
