"""What an agent types about charges; billing.charges decides."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from billing import money
from billing.models import Item, Subscription


class ChargeForm(forms.Form):
    item = forms.ModelChoiceField(
        queryset=Item.objects.filter(is_active=True),
        required=False,
        empty_label="Free text",
        label="From the catalogue",
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="Empty: the item's name."
    )
    quantity = forms.DecimalField(
        max_digits=10,
        decimal_places=3,
        initial=1,
        validators=[MinValueValidator(Decimal("0.001"), "The quantity must be more than zero.")],
    )
    unit_price = forms.DecimalField(
        max_digits=14,
        decimal_places=4,
        required=False,
        min_value=0,
        help_text="Empty: the catalogue's price.",
    )
    discount_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        initial=0,
        required=False,
        label="Discount %",
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    serial_number = forms.CharField(
        max_length=100, required=False, help_text="For a traceable product."
    )

    def clean_discount_percent(self):
        return self.cleaned_data["discount_percent"] or Decimal(0)

    def clean(self):
        data = super().clean()
        item, price = data.get("item"), data.get("unit_price")
        if item is None:
            if not data.get("description", "").strip():
                self.add_error("description", "Say what is charged, or pick a catalogue item.")
            if price is None and "unit_price" not in self.errors:
                self.add_error("unit_price", "A charge of free text needs its price.")
        currency = item.currency if item else settings.BILLING_CURRENCY
        if price is not None:
            try:
                money.validate_price(price, currency)
            except ValidationError as error:
                self.add_error("unit_price", error)
        if item is not None and item.is_traceable and not data.get("serial_number", "").strip():
            self.add_error("serial_number", f"{item.name} is traceable: give its serial number.")
        return data


class ChangeChargeForm(forms.Form):
    description = forms.CharField(max_length=200)
    quantity = ChargeForm.base_fields["quantity"]
    unit_price = forms.DecimalField(max_digits=14, decimal_places=4, min_value=0)
    discount_percent = ChargeForm.base_fields["discount_percent"]
    serial_number = ChargeForm.base_fields["serial_number"]

    def __init__(self, *args, charge, **kwargs):
        self.charge = charge
        super().__init__(*args, **kwargs)

    clean_discount_percent = ChargeForm.clean_discount_percent

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        try:
            money.validate_price(price, self.charge.currency)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return price


class AffectedServiceForm(forms.Form):
    subscription = forms.ModelChoiceField(
        queryset=Subscription.objects.none(),
        required=False,
        empty_label="None",
        label="Affected service",
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the contact's own subscriptions are offered.
        self.fields["subscription"].queryset = Subscription.objects.filter(
            contact_id=ticket.contact_id
        ).select_related("service")


class CreditNoteForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why is it cancelled?")
