"""The receivables rules, each written once: which invoice may be financed, and the quote."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from financing.models import Program
from financing.pricing import Quote, receivables_quote
from scf_platform.models import Organization
from suppliers.models import Invoice, InvoiceStatus


@dataclass(frozen=True, slots=True)
class InvoiceRule:
    """One rule applied to one invoice: `says` is what screening records, `refusal` what a
    draft is refused with when it does not hold."""

    code: str
    holds: bool
    says: str
    refusal: str


def financeable(
    invoice: Invoice, *, applicant: Organization, program: Program, today: date
) -> list[InvoiceRule]:
    """The financeable-invoice rule, in the order a refusal names them: an invoice may be
    financed in `program` by `applicant` when every rule holds. Drafting refuses on the first
    that does not, screening records all of them, the apply page offers only invoices that pass
    every one."""
    label = invoice.number
    status = invoice.get_status_display().lower()
    return [
        InvoiceRule(
            "invoice_confirmed",
            invoice.status == InvoiceStatus.CONFIRMED,
            _("Invoice %(n)s is confirmed by the buyer.") % {"n": label},
            _("Invoice %(n)s is %(s)s, not confirmed.") % {"n": label, "s": status},
        ),
        InvoiceRule(
            "invoice_of_core_enterprise",
            invoice.buyer_id == program.core_enterprise_id and invoice.seller_id == applicant.pk,
            _("Invoice %(n)s is the applicant's, owed by the core enterprise.") % {"n": label},
            _("Invoice %(n)s is not owed by the program's core enterprise.") % {"n": label},
        ),
        InvoiceRule(
            "invoice_in_program_currency",
            invoice.currency == program.currency,
            _("Invoice %(n)s is in the program's currency (%(c)s).")
            % {"n": label, "c": program.currency},
            _("Invoice %(n)s is in %(c)s; the program lends in %(p)s.")
            % {"n": label, "c": invoice.currency, "p": program.currency},
        ),
        InvoiceRule(
            "invoice_not_past_due",
            invoice.due_date > today,
            _("Invoice %(n)s is not past due.") % {"n": label},
            _("Invoice %(n)s is due already.") % {"n": label},
        ),
        InvoiceRule(
            "invoice_within_tenor",
            (invoice.due_date - today).days <= program.max_tenor_days,
            _("Invoice %(n)s falls due within %(d)s days.")
            % {"n": label, "d": program.max_tenor_days},
            _("Invoice %(n)s falls due after the program's %(d)s days.")
            % {"n": label, "d": program.max_tenor_days},
        ),
    ]


def is_financeable(
    invoice: Invoice, *, applicant: Organization, program: Program, today: date
) -> bool:
    return all(
        rule.holds
        for rule in financeable(invoice, applicant=applicant, program=program, today=today)
    )


def quote(
    *,
    program: Program,
    requested_amount: Decimal | None,
    invoices: Iterable[Invoice],
    value_date: date,
) -> Quote | None:
    """The receivables quote of `invoices` in `program` (API.md): the advance is
    min(requested, round(total x advance rate)), priced to the latest due date; with no amount
    requested, the whole advance. None without invoices. The one place that feeds the formula:
    screening, disbursement, the API and the apply page's preview all ask here."""
    invoices = list(invoices)
    if not invoices:
        return None
    total = sum((invoice.amount for invoice in invoices), Decimal(0))
    return receivables_quote(
        requested_amount=total if requested_amount is None else requested_amount,
        invoice_total=total,
        advance_rate=program.advance_rate,
        annual_rate=program.annual_rate,
        day_count=program.day_count,
        maturity_date=max(invoice.due_date for invoice in invoices),
        value_date=value_date,
    )
