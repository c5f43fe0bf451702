"""Money: Decimal amounts in a currency, rounded to the currency's minor unit (two
decimals for EUR, none for JPY, three for KWD; Babel's ISO 4217 data), never floats."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError

CURRENCIES = sorted(list_currencies())
HUNDRED = Decimal(100)


def validate_currency(code: str) -> None:
    if code not in list_currencies():
        raise ValidationError(f"“{code}” is not an ISO 4217 currency code (e.g. EUR, USD).")


def decimals(currency: str) -> int:
    return get_currency_precision(currency)


def rounded(amount: Decimal, currency: str) -> Decimal:
    """Half up to the currency's minor unit, as an invoice prints it."""
    return amount.quantize(Decimal(1).scaleb(-decimals(currency)), rounding=ROUND_HALF_UP)


def validate_price(amount: Decimal, currency: str) -> None:
    """A price may not be finer than the currency's minor unit (no 9.999 EUR)."""
    places = decimals(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        unit = "no decimals" if places == 0 else f"at most {places} decimals"
        raise ValidationError(f"{currency} prices have {unit}; {amount} has more.")


def line_amounts(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    tax_rate: Decimal,
    currency: str,
) -> tuple[Decimal, Decimal, Decimal]:
    """Net, tax and total of one line, each rounded on the line (as printed), so the
    invoice's totals are the sums of what it shows."""  # fmt: skip
    gross = quantity * unit_price
    net = rounded(gross - gross * discount_percent / HUNDRED, currency)
    tax = rounded(net * tax_rate / HUNDRED, currency)
    return net, tax, net + tax


def shown(amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale=settings.BILLING_LOCALE)
