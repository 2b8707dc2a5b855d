"""Reads of the receivables product."""

from datetime import date

from financing.models import Program
from financing.products.receivables.rules import is_financeable
from scf_platform.models import Organization
from suppliers.models import Invoice, InvoiceStatus


def financeable_invoices(*, applicant: Organization, program: Program | None, today: date):
    """The applicant's invoices it may finance in `program` today (rules.financeable) and that
    no request holds, soonest due first."""
    if program is None:
        return Invoice.objects.none()
    # The query only narrows what is read (the applicant's confirmed invoices, not held); the
    # rule decides.
    candidates = (
        Invoice.objects.visible_to(applicant)
        .filter(seller=applicant, status=InvoiceStatus.CONFIRMED)
        .exclude(receivable_holds__active=True)
    )
    ids = [
        invoice.pk
        for invoice in candidates
        if is_financeable(invoice, applicant=applicant, program=program, today=today)
    ]
    return (
        Invoice.objects.visible_to(applicant)
        .filter(pk__in=ids)
        .select_related("buyer")
        .order_by("due_date", "pk")
    )
