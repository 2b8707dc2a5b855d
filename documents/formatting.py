"""How documents show rates and days, in the language active while a draft's context is
built (amounts: scf_platform.money.money, as the portals show them), so that every document
writes them alike."""

from datetime import datetime
from decimal import Decimal

from django.utils import formats, timezone


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
