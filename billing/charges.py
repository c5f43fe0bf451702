"""The charges on a request and its affected service: every change checked here, written
in the request's history (through tickets.workflow, under the request's lock), and
refused once the request is closed."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing import money
from billing.models import AffectedService, Charge, Item, Subscription
from tickets import workflow
from tickets.models import Ticket
from tickets.workflow import Actor, WorkflowError

LOCKED = "change its charges"


class BillingError(WorkflowError):
    pass


@transaction.atomic
def add_charge(
    ticket: Ticket,
    *,
    by: Actor,
    quantity: Decimal,
    item: Item | None = None,
    description: str = "",
    unit_price: Decimal | None = None,
    currency: str = "",
    tax_rate: Decimal | None = None,
    discount_percent: Decimal = Decimal(0),
    serial_number: str = "",
    now: datetime | None = None,
) -> Charge:
    """A line from the catalogue (its price, currency and tax unless given) or of free
    text (description, price; the default currency and no tax unless given)."""
    now = now or timezone.now()
    if item is not None:
        description = description or item.name
        unit_price = item.unit_price if unit_price is None else unit_price
        currency = item.currency
        tax_rate = item.tax_rate if tax_rate is None else tax_rate
    charge = Charge(
        ticket=ticket,
        item=item,
        description=description.strip(),
        quantity=quantity,
        unit_price=unit_price,
        currency=currency or settings.BILLING_CURRENCY,
        tax_rate=tax_rate or Decimal(0),
        discount_percent=discount_percent,
        serial_number=serial_number.strip(),
        added_by=by,
        created_at=now,
        updated_at=now,
    )
    workflow.record_change(
        ticket,
        by=by,
        action="charge_added",
        field="charges",
        new=str(charge),
        doing=LOCKED,
        now=now,
    )
    _check(charge)
    charge.save()
    return charge


@transaction.atomic
def change_charge(
    charge: Charge,
    *,
    by: Actor,
    quantity: Decimal,
    description: str,
    unit_price: Decimal,
    discount_percent: Decimal,
    serial_number: str = "",
    now: datetime | None = None,
) -> Charge:
    now = now or timezone.now()
    before = str(charge)
    charge.quantity, charge.description = quantity, description.strip()
    charge.unit_price, charge.discount_percent = unit_price, discount_percent
    charge.serial_number, charge.updated_at = serial_number.strip(), now
    workflow.record_change(
        charge.ticket, by=by, action="charge_changed", field="charges", old=before,
        new=str(charge), doing=LOCKED, now=now,
    )  # fmt: skip
    _check(charge)
    charge.save()
    return charge


@transaction.atomic
def remove_charge(charge: Charge, *, by: Actor, now: datetime | None = None) -> None:
    workflow.record_change(
        charge.ticket, by=by, action="charge_removed", field="charges", old=str(charge),
        doing=LOCKED, now=now,
    )  # fmt: skip
    charge.delete()


def _check(charge: Charge) -> None:
    if not charge.description:
        raise BillingError("Say what is charged.")
    if charge.unit_price is None:
        raise BillingError("A charge of free text needs its unit price.")
    if charge.quantity is None or charge.quantity <= 0:
        raise BillingError("The quantity must be more than zero.")
    if charge.unit_price < 0:
        raise BillingError("A price cannot be negative; a discount lowers it.")
    if not Decimal(0) <= charge.discount_percent <= Decimal(100):
        raise BillingError("A discount is from 0 to 100 %.")
    try:
        money.validate_currency(charge.currency)
        money.validate_price(charge.unit_price, charge.currency)
    except ValidationError as error:
        raise BillingError(error.messages[0]) from error
    others = charge.ticket.charges.exclude(pk=charge.pk)
    currency = others.values_list("currency", flat=True).first()
    if currency and currency != charge.currency:
        raise BillingError(
            f"This request is charged in {currency}; a {charge.currency} charge cannot join it."
        )
    traceable = charge.item is not None and charge.item.is_traceable
    if traceable and not charge.serial_number:
        raise BillingError(f"{charge.item.name} is traceable: give its serial number.")
    if charge.serial_number and not traceable:
        raise BillingError("Only a traceable product has a serial number.")


@transaction.atomic
def set_affected_service(
    ticket: Ticket, subscription: Subscription | None, *, by: Actor, now: datetime | None = None
) -> None:
    """Name the contact's subscription the request is about, or none."""
    current = AffectedService.objects.filter(ticket=ticket).select_related("subscription__service")
    current = current.first()
    if subscription is not None and subscription.contact_id != ticket.contact_id:
        raise BillingError("Only a subscription of the request's contact can be affected.")
    if (current.subscription if current else None) == subscription:
        return
    workflow.record_change(
        ticket, by=by, action="changed", field="affected_service",
        old=str(current.subscription) if current else "",
        new=str(subscription) if subscription else "", now=now,
    )  # fmt: skip
    if subscription is None:
        current.delete()
    else:
        AffectedService.objects.update_or_create(
            ticket=ticket, defaults={"subscription": subscription}
        )
