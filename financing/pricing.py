"""The receivables quote, exactly as API.md defines it; computed exactly, rounded once."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from scf_platform.money import interest, round_half_up

APR_PLACES = 6


@dataclass(frozen=True)
class Quote:
    advance_amount: Decimal
    discount_amount: Decimal
    net_proceeds: Decimal
    annual_rate: Decimal
    days: int
    day_count: str
    apr: Decimal
    value_date: date
    maturity_date: date

    def as_dict(self) -> dict:
        return {
            "advance_amount": str(self.advance_amount),
            "discount_amount": str(self.discount_amount),
            "net_proceeds": str(self.net_proceeds),
            "annual_rate": str(self.annual_rate),
            "days": self.days,
            "day_count": self.day_count,
            "apr": str(self.apr),
            "value_date": self.value_date.isoformat(),
            "maturity_date": self.maturity_date.isoformat(),
        }


def receivables_quote(
    *,
    requested_amount: Decimal,
    invoice_total: Decimal,
    advance_rate: Decimal,
    annual_rate: Decimal,
    day_count: str,
    maturity_date: date,
    value_date: date,
) -> Quote:
    """advance = min(requested, round(total x advance rate)); days = maturity - value date;
    discount = round(advance x rate x days / basis); net = advance - discount.
    The APR is the discount as a yearly (365-day) rate on the cash actually received."""
    advance = min(requested_amount, round_half_up(invoice_total * advance_rate))
    days = max((maturity_date - value_date).days, 0)
    discount = round_half_up(interest(advance, annual_rate, days, day_count))
    net = advance - discount
    if days > 0 and net > 0:
        apr = round_half_up(discount / net * Decimal(365) / Decimal(days), APR_PLACES)
    else:
        apr = Decimal(0).quantize(Decimal(1).scaleb(-APR_PLACES))
    return Quote(
        advance_amount=advance,
        discount_amount=discount,
        net_proceeds=net,
        annual_rate=annual_rate,
        days=days,
        day_count=day_count,
        apr=apr,
        value_date=value_date,
        maturity_date=maturity_date,
    )
