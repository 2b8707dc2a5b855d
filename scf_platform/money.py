"""Money and rates: Decimal end to end, one rounding function (half-up), day counts, the
currencies the platform deals in, and an amount as people read it."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats

CENT = Decimal("0.01")
MONEY_MAX_DIGITS = 18
MONEY_PLACES = 2
DAY_COUNT_BASIS = {"ACT/360": 360, "ACT/365": 365}
CURRENCIES = {"CNY", "USD", "EUR", "HKD", "JPY", "GBP"}


def round_half_up(value: Decimal, places: int = MONEY_PLACES) -> Decimal:
    """The platform's one rounding function: half-up, to the cent unless told otherwise.
    Callers compute exactly and round once, at the end."""
    if not isinstance(value, Decimal):
        raise TypeError(f"round_half_up takes a Decimal, not {type(value).__name__}")
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_money(text: str) -> Decimal:
    """A positive amount with at most two decimals, written plainly ("1234.50"); exponents,
    more decimals, signs, thousands separators and non-finite values are refused."""
    text = text.strip()
    if not text or any(char not in "0123456789." for char in text) or text.count(".") > 1:
        raise ValueError(f"{text!r} is not an amount like 1234.50")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount like 1234.50") from None
    if amount.as_tuple().exponent < -MONEY_PLACES:
        raise ValueError(f"{text!r} has more than two decimals")
    if amount <= 0:
        raise ValueError("an amount must be positive")
    # Told by the leading digit's place, before quantize: quantizing a number of more digits
    # than the decimal context's precision (28) raises InvalidOperation instead.
    if amount.adjusted() >= MONEY_MAX_DIGITS - MONEY_PLACES:
        raise ValueError(f"{text!r} is too large")
    return amount.quantize(CENT)


def interest(principal: Decimal, annual_rate: Decimal, days: int, day_count: str) -> Decimal:
    """Simple interest, exact (not rounded): principal x rate x days / basis."""
    return principal * annual_rate * Decimal(days) / Decimal(DAY_COUNT_BASIS[day_count])


def money(amount, currency: str = "") -> str:
    """An amount for the current language: grouped digits, two decimals, the currency code."""
    if amount is None:
        return "—"
    text = formats.number_format(
        round_half_up(Decimal(amount)), decimal_pos=2, use_l10n=True, force_grouping=True
    )
    return f"{text} {currency}".strip()
