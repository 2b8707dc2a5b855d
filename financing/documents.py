"""The documents of a deal, registered with documents (which renders, stores and serves them):
the payable confirmation letter (确权函), the notice of assignment, the financing agreement and
the repayment statement. For each: what it is about, the event that issues it, what its template
shows, in whose language, and the parties who may download it.

The confirmation letter is about an invoice, whose room is suppliers; it is registered here
because suppliers and documents sit side by side (neither imports the other) and financing, above
both, is where the letter matters: it is what a bank lends against."""

from datetime import datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.formatting import day_text, percent_text
from documents.registry import (
    Draft,
    Kind,
    UnknownSubject,
    document_kind_register,
    document_subject_register,
)
from financing.models import FinancingRequest, Repayment, RequestStatus
from scf_platform.models import Organization
from scf_platform.money import money
from suppliers.models import Invoice


class DocumentKind(models.TextChoices):
    FINANCING_AGREEMENT = "financing_agreement", gettext_lazy("Financing agreement")
    CONFIRMATION_LETTER = "confirmation_letter", gettext_lazy("Payable confirmation letter")
    ASSIGNMENT_NOTICE = "assignment_notice", gettext_lazy("Notice of assignment")
    REPAYMENT_STATEMENT = "repayment_statement", gettext_lazy("Repayment statement")


# What each document is about -----------------------------------------------------------------


def _missing(subject: str):
    raise UnknownSubject(f"{subject} does not exist")


def _request(pk: int) -> FinancingRequest:
    return (
        FinancingRequest.objects.select_related("program", "applicant", "bank", "core_enterprise")
        .filter(pk=pk)
        .first()
    ) or _missing(f"request:{pk}")


def _invoice_rows(request: FinancingRequest) -> tuple[list[dict], Decimal]:
    invoices = list(
        Invoice.objects.filter(receivable_holds__request=request)
        .select_related("buyer")
        .order_by("due_date", "number", "pk")
    )
    rows = [
        {
            "number": invoice.number,
            "issue_date": day_text(invoice.issue_date),
            "due_date": day_text(invoice.due_date),
            "amount": money(invoice.amount, invoice.currency),
        }
        for invoice in invoices
    ]
    return rows, sum((invoice.amount for invoice in invoices), Decimal(0))


def _request_parties(request: FinancingRequest) -> dict[str, Organization]:
    return {
        "applicant": request.applicant,
        "bank": request.bank,
        "core_enterprise": request.core_enterprise,
    }


def _applicant_bank_core(request: FinancingRequest) -> list[tuple[str, Organization]]:
    return [
        (_("Applicant (seller)"), request.applicant),
        (_("Bank (financier)"), request.bank),
        (_("Core enterprise (debtor)"), request.core_enterprise),
    ]


def _confirmation_letter(pk: int) -> Draft:
    """Addressed by the buyer to the seller and whoever holds the receivable: the buyer's
    language."""
    subject = f"invoice:{pk}"
    invoice = (
        Invoice.objects.select_related("seller", "buyer", "confirmed_by").filter(pk=pk).first()
    ) or _missing(subject)
    if invoice.confirmed_at is None:
        raise UnknownSubject(f"{subject} was never confirmed")
    language = invoice.buyer.language
    with translation.override(language):
        context = {
            "invoice": invoice,
            "seller": invoice.seller,
            "buyer": invoice.buyer,
            "parties": [
                (_("Buyer (debtor)"), invoice.buyer),
                (_("Seller (creditor)"), invoice.seller),
            ],
            "issued_on": day_text(invoice.confirmed_at),
            "confirmed_at": timezone.localtime(invoice.confirmed_at).strftime("%Y-%m-%d %H:%M"),
            "confirmed_by": invoice.confirmed_by.get_username() if invoice.confirmed_by else "",
            "amount": money(invoice.amount, invoice.currency),
            "issue_date": day_text(invoice.issue_date),
            "due_date": day_text(invoice.due_date),
        }
    return Draft(
        kind=DocumentKind.CONFIRMATION_LETTER,
        subject=subject,
        language=language,
        parties={"seller": invoice.seller, "buyer": invoice.buyer},
        context=context,
    )


def _assignment_notice(pk: int) -> Draft:
    """Addressed to the core enterprise, the debtor: its language."""
    request = _request(pk)
    language = request.core_enterprise.language
    with translation.override(language):
        rows, total = _invoice_rows(request)
        context = {
            "request": request,
            "program": request.program,
            "parties": [
                (_("Assignor (applicant)"), request.applicant),
                (_("Assignee (bank)"), request.bank),
                (_("Debtor (core enterprise)"), request.core_enterprise),
            ],
            "issued_on": day_text(request.decided_at),
            "invoices": rows,
            "invoice_count": len(rows),
            "invoice_total": money(total, request.currency),
        }
    return Draft(
        kind=DocumentKind.ASSIGNMENT_NOTICE,
        subject=f"request:{pk}",
        language=language,
        parties=_request_parties(request),
        context=context,
    )


def _financing_agreement(pk: int) -> Draft:
    """The applicant's contract: its language."""
    request = _request(pk)
    if request.value_date is None:
        raise UnknownSubject(f"request:{pk} was never disbursed")
    program = request.program
    currency = request.currency
    language = request.applicant.language
    with translation.override(language):
        rows, total = _invoice_rows(request)
        context = {
            "request": request,
            "program": program,
            "parties": _applicant_bank_core(request),
            "issued_on": day_text(request.value_date),
            "invoices": rows,
            "invoice_count": len(rows),
            "invoice_total": money(total, currency),
            "terms": {
                "credit_limit": money(program.credit_limit, program.currency),
                "advance_rate": percent_text(program.advance_rate),
                "annual_rate": percent_text(program.annual_rate),
                "late_rate": percent_text(program.effective_late_rate),
                "day_count": program.day_count,
                "max_tenor_days": program.max_tenor_days,
            },
            "quote": {
                "requested_amount": money(request.requested_amount, currency),
                "advance_amount": money(request.advance_amount, currency),
                "discount_amount": money(request.discount_amount, currency),
                "net_proceeds": money(request.net_proceeds, currency),
                "annual_rate": percent_text(request.annual_rate),
                "apr": percent_text(request.apr),
                "days": request.days,
                "day_count": request.day_count,
                "value_date": day_text(request.value_date),
                "maturity_date": day_text(request.maturity_date),
            },
        }
    return Draft(
        kind=DocumentKind.FINANCING_AGREEMENT,
        subject=f"request:{pk}",
        language=language,
        parties=_request_parties(request),
        context=context,
    )


def _repayment_statement(pk: int) -> Draft:
    """Sent to the applicant, whose financing it closes: its language."""
    request = _request(pk)
    if request.settled_at is None:
        raise UnknownSubject(f"request:{pk} was never settled")
    repayments = list(
        Repayment.objects.filter(request=request).select_related("payer").order_by("paid_on", "pk")
    )
    currency = request.currency
    language = request.applicant.language
    with translation.override(language):
        context = {
            "request": request,
            "program": request.program,
            "parties": _applicant_bank_core(request),
            "issued_on": day_text(request.settled_at),
            "repayments": [
                {
                    "paid_on": day_text(repayment.paid_on),
                    "payer": repayment.payer.name,
                    "amount": money(repayment.amount, currency),
                    "principal": money(repayment.principal_part, currency),
                    "late_interest": money(repayment.late_interest_part, currency),
                }
                for repayment in repayments
            ],
            "summary": {
                "advance_amount": money(request.advance_amount, currency),
                "discount_amount": money(request.discount_amount, currency),
                "net_proceeds": money(request.net_proceeds, currency),
                "value_date": day_text(request.value_date),
                "maturity_date": day_text(request.maturity_date),
                "late_rate": percent_text(request.program.effective_late_rate),
                "day_count": request.day_count,
                "settled_on": day_text(request.settled_at),
                "outstanding": money(request.principal_outstanding, currency),
            },
            "totals": {
                "amount": money(sum((r.amount for r in repayments), Decimal(0)), currency),
                "principal": money(
                    sum((r.principal_part for r in repayments), Decimal(0)), currency
                ),
                "late_interest": money(
                    sum((r.late_interest_part for r in repayments), Decimal(0)), currency
                ),
            },
        }
    return Draft(
        kind=DocumentKind.REPAYMENT_STATEMENT,
        subject=f"request:{pk}",
        language=language,
        parties=_request_parties(request),
        context=context,
    )


# What is owed: the subjects whose event happened before `before` ------------------------------

_APPROVED = (
    RequestStatus.APPROVED,
    RequestStatus.DISBURSED,
    RequestStatus.OVERDUE,
    RequestStatus.SETTLED,
    RequestStatus.DEFAULTED,
)


def _invoices_confirmed(before: datetime):
    return Invoice.objects.filter(confirmed_at__lte=before)


def _requests_approved(before: datetime):
    return FinancingRequest.objects.filter(status__in=_APPROVED, decided_at__lte=before)


def _requests_disbursed(before: datetime):
    return FinancingRequest.objects.filter(disbursed_at__lte=before)


def _requests_settled(before: datetime):
    return FinancingRequest.objects.filter(status=RequestStatus.SETTLED, settled_at__lte=before)


# Who may see a subject: a route naming it answers 404 to anyone else ---------------------------


def _request_visible(organization: Organization | None, pk: int) -> bool:
    return FinancingRequest.objects.visible_to(organization).filter(pk=pk).exists()


def _invoice_visible(organization: Organization | None, pk: int) -> bool:
    return Invoice.objects.visible_to(organization).filter(pk=pk).exists()


def documents_register() -> None:
    """Called once from FinancingConfig.ready()."""
    document_subject_register("invoice", visible=_invoice_visible)
    document_subject_register("request", visible=_request_visible)
    for code, prefix, subject, event, draft, owed in (
        (
            DocumentKind.FINANCING_AGREEMENT,
            "FA",
            "request",
            "request.disbursed",
            _financing_agreement,
            _requests_disbursed,
        ),
        (
            DocumentKind.CONFIRMATION_LETTER,
            "CL",
            "invoice",
            "invoice.confirmed",
            _confirmation_letter,
            _invoices_confirmed,
        ),
        (
            DocumentKind.ASSIGNMENT_NOTICE,
            "AN",
            "request",
            "request.approved",
            _assignment_notice,
            _requests_approved,
        ),
        (
            DocumentKind.REPAYMENT_STATEMENT,
            "RS",
            "request",
            "request.settled",
            _repayment_statement,
            _requests_settled,
        ),
    ):
        document_kind_register(
            Kind(
                code=str(code),
                label=code.label,
                number_prefix=prefix,
                subject=subject,
                issued_by=(event,),
                draft=draft,
                owed=owed,
            )
        )
