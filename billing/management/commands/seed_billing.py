"""The demo's catalogue, after seed_demo: services and products (a traceable router),
a subscription for each demo contact, an invoice template, and charges on one open
request. get_or_create'd, so a second run adds nothing."""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from billing import charges
from billing.models import InvoiceTemplate, Item, Subscription
from tickets.access import visible_tickets
from tickets.models import Contact, Status

CATALOGUE = [
    ("FIBRE-500", "Fibre 500", Item.Kind.SERVICE, "39.90", False),
    ("CALLOUT", "Technician call-out", Item.Kind.SERVICE, "65.00", False),
    ("INSTALL", "Installation", Item.Kind.SERVICE, "49.00", False),
    ("ROUTER-X1", "Router X1", Item.Kind.PRODUCT, "129.00", True),
    ("CABLE-5M", "Network cable, 5 m", Item.Kind.PRODUCT, "7.50", False),
]


class Command(BaseCommand):
    help = "Add the demo's billing catalogue, subscriptions and charges (after seed_demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        items = {}
        for code, name, kind, price, traceable in CATALOGUE:
            items[code], _ = Item.objects.get_or_create(
                code=code,
                defaults={
                    "name": name, "kind": kind, "unit_price": Decimal(price), "currency": "EUR",
                    "tax_rate": Decimal("20"), "is_traceable": traceable,
                },
            )  # fmt: skip
        InvoiceTemplate.objects.get_or_create(
            name="Demo",
            defaults={
                "seller": "Northwind Helpdesk Ltd.\n1 Harbour Street\nDublin D02 XY45",
                "footer": "Payable within 30 days to IBAN IE00 DEMO 0000 0000 0000 00, "
                "quoting {number}.",
            },
        )
        for index, contact in enumerate(Contact.objects.order_by("pk")[:10], start=1):
            Subscription.objects.get_or_create(
                contact=contact,
                service=items["FIBRE-500"],
                defaults={"reference": f"LINE-{1000 + index}", "starts_on": date(2025, 1, 1)},
            )
        agent = get_user_model().objects.filter(username="alice").first()
        # one of Alice's, so the demo shows it to her
        ticket = (
            visible_tickets(agent)
            .filter(base_status=Status.Base.ACTIVE, contact__isnull=False)
            .order_by("pk")
            .first()
            if agent
            else None
        )
        if agent and ticket and not ticket.charges.exists():
            charges.add_charge(ticket, by=agent, item=items["CALLOUT"], quantity=Decimal(1))
            charges.add_charge(
                ticket, by=agent, item=items["ROUTER-X1"], quantity=Decimal(1),
                serial_number="RX1-2026-0042",
            )  # fmt: skip
            self.stdout.write(f"Charges on {ticket.number}; close it as resolved to invoice it.")
        self.stdout.write("The billing catalogue is in place.")
