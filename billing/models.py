"""What is charged for the work on a request, and the invoices of resolved requests.

The catalogue (services and products with their prices), the services contacts subscribe
to, the charges agents log on a request while it is open, and the invoice a resolved
close makes of them (its lines copied, so later price changes do not alter it), which
only a credit note cancels. All amounts are Decimals in one currency (billing.money).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from billing import money
from tickets.models import Contact, Ticket

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def _money_field(**kwargs):
    # Four places hold every currency's minor unit (KWD has three); each is checked
    # against its own currency (billing.money.validate_price).
    return models.DecimalField(max_digits=14, decimal_places=4, **kwargs)


class Item(models.Model):
    """A service (a fee for work, or one contacts subscribe to) or a product."""

    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        PRODUCT = "product", "Product"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    unit_price = _money_field(validators=[MinValueValidator(Decimal(0))])
    currency = models.CharField(max_length=3, validators=[money.validate_currency])
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT, help_text="%"
    )
    is_traceable = models.BooleanField(
        default=False, help_text="A product charged with its serial number."
    )
    is_active = models.BooleanField(default=True, help_text="Offered for new charges.")

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "catalogue item"

    def __str__(self):
        return f"{self.code} · {self.name}"

    def clean(self):
        if self.is_traceable and self.kind != self.Kind.PRODUCT:
            raise ValidationError({"is_traceable": "Only products have serial numbers."})
        if self.currency and self.unit_price is not None:
            try:
                money.validate_currency(self.currency)
                money.validate_price(self.unit_price, self.currency)
            except ValidationError as error:
                raise ValidationError({"unit_price": error.messages}) from error


class Subscription(models.Model):
    """A service a contact subscribes to: what a request may name as affected."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        ENDED = "ended", "Ended"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="subscriptions")
    service = models.ForeignKey(
        Item,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        limit_choices_to={"kind": Item.Kind.SERVICE},
    )
    reference = models.CharField(
        max_length=100, blank=True, help_text="What tells it apart, e.g. a line number."
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)

    class Meta:
        ordering = ["contact", "-starts_on", "pk"]

    def __str__(self):
        return f"{self.service.name} ({self.reference})" if self.reference else self.service.name

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "It cannot end before it starts."})
        if self.service_id and self.service.kind != Item.Kind.SERVICE:
            raise ValidationError({"service": "A subscription is to a service."})


class AffectedService(models.Model):
    """The contact's subscription a request is about (a broken line, a plan to change)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="affected_service")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return str(self.subscription)


class Charge(models.Model):
    """A line charged on a request: a catalogue item or free text."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="charges")
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    unit_price = _money_field()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    currency = models.CharField(max_length=3)
    serial_number = models.CharField(max_length=100, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="charge_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="charge_discount_percent",
            ),
        ]

    def __str__(self):
        return f"{Decimal(self.quantity).normalize():f} × {self.description}"

    @property
    def amounts(self) -> tuple[Decimal, Decimal, Decimal]:
        """Net, tax and total, rounded on the line."""
        return money.line_amounts(
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_percent=self.discount_percent,
            tax_rate=self.tax_rate,
            currency=self.currency,
        )


class Invoice(models.Model):
    """The invoice of a request closed as resolved: one per request, ever."""

    number = models.CharField(max_length=60, unique=True)
    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="invoice")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    issued_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    net_total = _money_field()
    tax_total = _money_field()
    total = _money_field()
    pdf = models.FileField(upload_to="invoices/%Y/", blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        # The contact's invoices on the portal, newest first.
        indexes = [models.Index(fields=["contact", "-issued_at"], name="invoice_contact_issued")]

    def __str__(self):
        return self.number

    @property
    def is_cancelled(self) -> bool:
        return hasattr(self, "credit_note")


class InvoiceLine(models.Model):
    """A charge as it was invoiced."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200)
    serial_number = models.CharField(max_length=100, blank=True)
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    unit_price = _money_field()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    net = _money_field()
    tax = _money_field()
    total = _money_field()

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


class CreditNote(models.Model):
    """Cancels an invoice (which stays, as issued)."""

    number = models.CharField(max_length=60, unique=True)
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()

    class Meta:
        ordering = ["-issued_at", "-pk"]

    def __str__(self):
        return self.number


class InvoiceTemplate(models.Model):
    """What an invoice's PDF and its email say around the lines; the newest active one is
    used. Placeholders: {number}, {request}, {contact_name}, {issued}, {total}."""

    name = models.CharField(max_length=100)
    seller = models.TextField(help_text="Your name and address, at the top.")
    heading = models.CharField(max_length=200, default="Invoice {number}")
    footer = models.TextField(blank=True, help_text="Payment terms, bank details.")
    email_subject = models.CharField(max_length=200, default="Invoice {number}")
    email_body = models.TextField(
        default="Dear {contact_name},\n\nplease find attached invoice {number} for your "
        "request {request}, {total}.\n\nThank you."
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]

    def __str__(self):
        return self.name
