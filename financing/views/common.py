"""What the financing pages share: loading a request the acting organization may see, the quote
and the screening as people read them, and turning a service's refusal into a response."""

import re
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from financing.models import FinancingRequest
from financing.pricing import Quote
from scf_platform.errors import DomainError
from scf_platform.money import money, round_half_up
from scf_platform.pages import day

CHECK_LABELS = {
    "program_active": _("The program is active"),
    "product_offered": _("The program offers the product"),
    "applicant_onboarded": _("The applicant is onboarded into the program"),
    "invoice_held": _("The invoice is held for this request only"),
    "invoice_confirmed": _("The invoice is confirmed by the buyer"),
    "invoice_of_core_enterprise": _("The invoice is owed by the core enterprise"),
    "invoice_in_program_currency": _("The invoice is in the program's currency"),
    "invoice_not_past_due": _("The invoice is not past due"),
    "invoice_within_tenor": _("The invoice falls due within the maximum tenor"),
    # Recorded by screenings before a request above its advance was lent at the advance.
    "amount_within_advance": _("The amount is within the advance"),
    "program_limit": _("The program's available limit covers the advance"),
    "sub_limit": _("The applicant's sub-limit covers the advance"),
}


INVOICE_IN_MESSAGE = re.compile(r"^Invoice (\S+) ")
AMOUNT_IN_MESSAGE = re.compile(r"(\d+\.\d{2})\b")


def visible_request(request, pk: int, *, organization) -> FinancingRequest:
    """A request the acting organization is a party to, or 404 (never 403: nothing leaks)."""
    return get_object_or_404(
        FinancingRequest.objects.visible_to(organization).select_related(
            "program", "applicant", "bank", "core_enterprise", "created_by", "submitted_by"
        ),
        pk=pk,
    )


def percent(rate) -> str:
    if rate is None:
        return "—"
    # number_format cuts digits off; round (half-up, the platform's one rounding) first.
    value = round_half_up(Decimal(rate) * 100, 2)
    return formats.number_format(value, decimal_pos=2, use_l10n=True) + "%"


def quote_display(quote: Quote | None, currency: str) -> dict | None:
    """The quote's figures as text for the current language (the page and the JSON use it)."""
    if quote is None:
        return None
    return {
        "advance_amount": money(quote.advance_amount, currency),
        "discount_amount": money(quote.discount_amount, currency),
        "net_proceeds": money(quote.net_proceeds, currency),
        "annual_rate": percent(quote.annual_rate),
        "apr": percent(quote.apr),
        "days": formats.number_format(quote.days, use_l10n=True),
        "day_count": quote.day_count,
        "value_date": day(quote.value_date),
        "maturity_date": day(quote.maturity_date),
    }


def _check_detail(check: dict, currency: str) -> str:
    """What a recorded check is about beyond its kind: the invoice's number or the amount. The
    message was written in the worker's language; only these values are taken from it."""
    message = check.get("message", "")
    number = INVOICE_IN_MESSAGE.search(message)
    if check.get("code", "").startswith("invoice_") and number:
        return number.group(1)
    amount = AMOUNT_IN_MESSAGE.search(message)
    if amount:
        return money(Decimal(amount.group(1)), currency)
    return ""


def screening_display(screening: dict, currency: str = "") -> list[dict]:
    checks = []
    for check in (screening or {}).get("checks", []):
        code = check.get("code", "")
        checks.append(
            {
                "label": CHECK_LABELS.get(code) or check.get("message", code),
                "detail": _check_detail(check, currency) if code in CHECK_LABELS else "",
                "passed": bool(check.get("passed")),
            }
        )
    return checks


def refused(request, error: DomainError, financing_request: FinancingRequest):
    """A domain refusal: 403 when the role or position may not act, else say why and go back."""
    if error.status_code == 403:
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return redirect("portal:request_detail", pk=financing_request.pk)
