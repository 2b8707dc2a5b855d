"""How documents show figures, in the language active while a draft's context is built: the
kinds' drafters use these so that every document writes an amount, a rate and a day alike."""

from datetime import datetime
from decimal import Decimal

from django.utils import formats, timezone

from scf_platform.money import round_half_up


def money_text(amount, currency: str = "") -> str:
    if amount is None:
        return "—"
    text = formats.number_format(
        round_half_up(Decimal(amount)), decimal_pos=2, use_l10n=True, force_grouping=True
    )
    return f"{text} {currency}".strip()


def percent_text(rate) -> str:
    """A rate as a percentage with the decimals it has (at least two): contract terms are shown
    exactly, never rounded."""
    if rate is None:
        return "—"
    value = (Decimal(rate) * 100).normalize()
    places = max(2, -value.as_tuple().exponent)
    return formats.number_format(value, decimal_pos=places, use_l10n=True) + "%"


def day_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return formats.date_format(value)
