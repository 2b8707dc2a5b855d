"""PDF documents of a deal: the payable confirmation letter (确权函), the notice of assignment,
the financing agreement and the repayment statement. Each is rendered once with WeasyPrint in
the language of the organization it is addressed to, stored, and its SHA-256 recorded as a
business event (so the ledger holds it), in the transaction that stores it."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from financing.models import Document, DocumentKind, FinancingRequest, Repayment, RequestStatus
from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.models import Organization
from scf_platform.money import round_half_up
from suppliers.models import Invoice

# The event that issues each document (see financing.document_tasks).
DOCUMENT_FOR_EVENT = {
    "invoice.confirmed": DocumentKind.CONFIRMATION_LETTER,
    "request.approved": DocumentKind.ASSIGNMENT_NOTICE,
    "request.disbursed": DocumentKind.FINANCING_AGREEMENT,
    "request.settled": DocumentKind.REPAYMENT_STATEMENT,
}

NUMBER_PREFIX = {
    DocumentKind.CONFIRMATION_LETTER: "CL",
    DocumentKind.ASSIGNMENT_NOTICE: "AN",
    DocumentKind.FINANCING_AGREEMENT: "FA",
    DocumentKind.REPAYMENT_STATEMENT: "RS",
}


class UnknownSubject(ValueError):
    """The subject names nothing a document of this kind can be about."""


@dataclass
class Draft:
    """What a document is about, who its parties are, and what its template shows."""

    kind: str
    subject: str
    language: str
    about: dict
    parties: dict
    context: dict = field(default_factory=dict)

    @property
    def party_ids(self) -> list[int]:
        return [organization.pk for organization in self.parties.values()]


# Formatting, in the language active while the context is built -------------------------------


def _money(amount, currency: str = "") -> str:
    if amount is None:
        return "—"
    text = formats.number_format(
        round_half_up(Decimal(amount)), decimal_pos=2, use_l10n=True, force_grouping=True
    )
    return f"{text} {currency}".strip()


def _percent(rate) -> str:
    """A rate as a percentage with the decimals it has (at least two): contract terms are shown
    exactly, never rounded."""
    if rate is None:
        return "—"
    value = (Decimal(rate) * 100).normalize()
    places = max(2, -value.as_tuple().exponent)
    return formats.number_format(value, decimal_pos=places, use_l10n=True) + "%"


def _day(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return formats.date_format(value)


def _css_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_counter_css() -> str:
    """`content:` for the page box: the catalogue's "Page %(page)s of %(pages)s" with CSS
    counters in place of the placeholders, so each language orders the words its own way."""
    parts = []
    rest = _("Page %(page)s of %(pages)s")
    while rest:
        positions = [(rest.find(p), p) for p in ("%(page)s", "%(pages)s") if p in rest]
        if not positions:
            parts.append(_css_string(rest))
            break
        index, placeholder = min(positions)
        if index:
            parts.append(_css_string(rest[:index]))
        parts.append("counter(page)" if placeholder == "%(page)s" else "counter(pages)")
        rest = rest[index + len(placeholder) :]
    return " ".join(parts)


def document_number(kind: str, subject: str) -> str:
    return f"{NUMBER_PREFIX[kind]}-{subject.split(':', 1)[1].zfill(6)}"


# What each document is about -----------------------------------------------------------------


def _subject_id(subject: str, prefix: str) -> int:
    name, _sep, number = subject.partition(":")
    if name != prefix or not number.isdigit():
        raise UnknownSubject(f"{subject!r} is not a {prefix}")
    return int(number)


def _request(subject: str) -> FinancingRequest:
    return (
        FinancingRequest.objects.select_related("program", "applicant", "bank", "core_enterprise")
        .filter(pk=_subject_id(subject, "request"))
        .first()
    ) or _missing(subject)


def _missing(subject: str):
    raise UnknownSubject(f"{subject} does not exist")


def _invoice_rows(request: FinancingRequest) -> tuple[list[dict], Decimal]:
    invoices = list(
        Invoice.objects.filter(receivable_holds__request=request)
        .select_related("buyer")
        .order_by("due_date", "number", "pk")
    )
    rows = [
        {
            "number": invoice.number,
            "issue_date": _day(invoice.issue_date),
            "due_date": _day(invoice.due_date),
            "amount": _money(invoice.amount, invoice.currency),
        }
        for invoice in invoices
    ]
    return rows, sum((invoice.amount for invoice in invoices), Decimal(0))


def _request_parties(request: FinancingRequest) -> dict:
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


def _confirmation_letter(subject: str) -> Draft:
    """Addressed by the buyer to the seller and whoever holds the receivable: the buyer's
    language."""
    invoice = (
        Invoice.objects.select_related("seller", "buyer", "confirmed_by")
        .filter(pk=_subject_id(subject, "invoice"))
        .first()
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
            "issued_on": _day(invoice.confirmed_at),
            "confirmed_at": timezone.localtime(invoice.confirmed_at).strftime("%Y-%m-%d %H:%M"),
            "confirmed_by": invoice.confirmed_by.get_username() if invoice.confirmed_by else "",
            "amount": _money(invoice.amount, invoice.currency),
            "issue_date": _day(invoice.issue_date),
            "due_date": _day(invoice.due_date),
        }
    return Draft(
        kind=DocumentKind.CONFIRMATION_LETTER,
        subject=subject,
        language=language,
        about={"invoice": invoice},
        parties={"seller": invoice.seller, "buyer": invoice.buyer},
        context=context,
    )


def _assignment_notice(subject: str) -> Draft:
    """Addressed to the core enterprise, the debtor: its language."""
    request = _request(subject)
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
            "issued_on": _day(request.decided_at),
            "invoices": rows,
            "invoice_count": len(rows),
            "invoice_total": _money(total, request.currency),
        }
    return Draft(
        kind=DocumentKind.ASSIGNMENT_NOTICE,
        subject=subject,
        language=language,
        about={"request": request},
        parties=_request_parties(request),
        context=context,
    )


def _financing_agreement(subject: str) -> Draft:
    """The applicant's contract: its language."""
    request = _request(subject)
    if request.value_date is None:
        raise UnknownSubject(f"{subject} was never disbursed")
    program = request.program
    currency = request.currency
    language = request.applicant.language
    with translation.override(language):
        rows, total = _invoice_rows(request)
        context = {
            "request": request,
            "program": program,
            "parties": _applicant_bank_core(request),
            "issued_on": _day(request.value_date),
            "invoices": rows,
            "invoice_count": len(rows),
            "invoice_total": _money(total, currency),
            "terms": {
                "credit_limit": _money(program.credit_limit, program.currency),
                "advance_rate": _percent(program.advance_rate),
                "annual_rate": _percent(program.annual_rate),
                "late_rate": _percent(program.effective_late_rate),
                "day_count": program.day_count,
                "max_tenor_days": program.max_tenor_days,
            },
            "quote": {
                "requested_amount": _money(request.requested_amount, currency),
                "advance_amount": _money(request.advance_amount, currency),
                "discount_amount": _money(request.discount_amount, currency),
                "net_proceeds": _money(request.net_proceeds, currency),
                "annual_rate": _percent(request.annual_rate),
                "apr": _percent(request.apr),
                "days": request.days,
                "day_count": request.day_count,
                "value_date": _day(request.value_date),
                "maturity_date": _day(request.maturity_date),
            },
        }
    return Draft(
        kind=DocumentKind.FINANCING_AGREEMENT,
        subject=subject,
        language=language,
        about={"request": request},
        parties=_request_parties(request),
        context=context,
    )


def _repayment_statement(subject: str) -> Draft:
    """Sent to the applicant, whose financing it closes: its language."""
    request = _request(subject)
    if request.settled_at is None:
        raise UnknownSubject(f"{subject} was never settled")
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
            "issued_on": _day(request.settled_at),
            "repayments": [
                {
                    "paid_on": _day(repayment.paid_on),
                    "payer": repayment.payer.name,
                    "amount": _money(repayment.amount, currency),
                    "principal": _money(repayment.principal_part, currency),
                    "late_interest": _money(repayment.late_interest_part, currency),
                }
                for repayment in repayments
            ],
            "summary": {
                "advance_amount": _money(request.advance_amount, currency),
                "discount_amount": _money(request.discount_amount, currency),
                "net_proceeds": _money(request.net_proceeds, currency),
                "value_date": _day(request.value_date),
                "maturity_date": _day(request.maturity_date),
                "late_rate": _percent(request.program.effective_late_rate),
                "day_count": request.day_count,
                "settled_on": _day(request.settled_at),
                "outstanding": _money(request.principal_outstanding, currency),
            },
            "totals": {
                "amount": _money(sum((r.amount for r in repayments), Decimal(0)), currency),
                "principal": _money(
                    sum((r.principal_part for r in repayments), Decimal(0)), currency
                ),
                "late_interest": _money(
                    sum((r.late_interest_part for r in repayments), Decimal(0)), currency
                ),
            },
        }
    return Draft(
        kind=DocumentKind.REPAYMENT_STATEMENT,
        subject=subject,
        language=language,
        about={"request": request},
        parties=_request_parties(request),
        context=context,
    )


DRAFTERS = {
    DocumentKind.CONFIRMATION_LETTER: _confirmation_letter,
    DocumentKind.ASSIGNMENT_NOTICE: _assignment_notice,
    DocumentKind.FINANCING_AGREEMENT: _financing_agreement,
    DocumentKind.REPAYMENT_STATEMENT: _repayment_statement,
}


# Rendering ------------------------------------------------------------------------------------


def _refuse_fetch(url: str, *args, **kwargs):
    # Documents are self-contained: nothing in one may make the renderer read a file or the
    # network (a name an organization typed is text, never a URL).
    raise ValueError(f"documents load no resources ({url})")


def document_render(*, kind: str, subject: str) -> tuple[Draft, bytes]:
    """Build the document in its addressee's language and render it to PDF bytes."""
    if kind not in DRAFTERS:
        raise UnknownSubject(f"no document of kind {kind!r}")
    # WeasyPrint takes about a second to import: only the process that renders pays for it,
    # not every web request or management command that loads the receivers.
    from weasyprint import HTML

    draft = DRAFTERS[kind](subject)
    with translation.override(draft.language):
        title = DocumentKind(kind).label
        number = document_number(kind, subject)
        html = render_to_string(
            f"documents/{kind}.html",
            {
                **draft.context,
                "title": title,
                "number": number,
                "html_lang": "zh-Hans" if draft.language.startswith("zh") else "en",
                # Our own catalogue's words and digits, quoted for CSS: no organization's text.
                "css_header": mark_safe(_css_string(f"{title} · {number}")),  # noqa: S308
                "css_pages": mark_safe(_page_counter_css()),  # noqa: S308
            },
        )
        pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    return draft, pdf


# Issuing -------------------------------------------------------------------------------------


def _file_name(kind: str, subject: str, digest: str) -> str:
    return f"{kind}-{subject.replace(':', '-')}-{digest[:16]}.pdf"


def document_issue(*, kind: str, subject: str) -> Document:
    """The document of `kind` about `subject`, issued once: an existing one is returned as it
    is (never re-rendered). A new one is rendered, stored under MEDIA_ROOT/documents/, and
    its SHA-256 sent as a `document.issued` business event in the transaction that stores it."""
    existing = Document.objects.filter(kind=kind, subject=subject).first()
    if existing is not None:
        return existing
    draft, pdf = document_render(kind=kind, subject=subject)
    digest = hashlib.sha256(pdf).hexdigest()
    document = Document(
        kind=kind,
        subject=subject,
        language=draft.language,
        sha256=digest,
        size=len(pdf),
        **draft.about,
        **draft.parties,
    )
    document.file.save(_file_name(kind, subject, digest), ContentFile(pdf), save=False)
    try:
        with business_transaction():
            document.save()
            business_event_record(
                kind="document.issued",
                subject=f"document:{document.pk}",
                parties=draft.party_ids,
                payload={
                    "document": document.pk,
                    "kind": kind,
                    "sha256": digest,
                    "subject": subject,
                },
            )
    except IntegrityError:
        # Another delivery of the same task stored it first; keep theirs, drop our copy.
        document.file.storage.delete(document.file.name)
        winner = Document.objects.filter(kind=kind, subject=subject).first()
        if winner is None:
            raise
        return winner
    return document


# Reading -------------------------------------------------------------------------------------


def document_visible(*, organization: Organization | None, pk: int) -> Document | None:
    """A document the organization is a party to; None for anyone else."""
    return Document.objects.visible_to(organization).filter(pk=pk).first()


def request_visible(*, organization: Organization | None, pk: int) -> FinancingRequest | None:
    return FinancingRequest.objects.visible_to(organization).filter(pk=pk).first()


def request_document(*, organization: Organization | None, request: FinancingRequest, kind: str):
    """The request's document of `kind` as the organization sees it; None until it is issued."""
    return Document.objects.visible_to(organization).filter(request=request, kind=kind).first()


def _without_document(queryset, kind: str, prefix: str):
    """The rows of `queryset` whose document of `kind` (subject `prefix:<pk>`) was not issued."""
    issued = Document.objects.filter(kind=kind, subject=OuterRef("document_subject"))
    return (
        queryset.annotate(document_subject=Concat(Value(prefix), Cast("pk", CharField())))
        .exclude(Exists(issued))
        .order_by("pk")
    )


def documents_missing(*, before: datetime, limit: int = 200) -> list[tuple[str, str]]:
    """(kind, subject) of the documents whose event happened before `before` but which were never
    issued: their task was lost (a broker down when the change committed). The database says
    what is owed, so a sweeper can issue it late rather than never."""
    approved = (
        RequestStatus.APPROVED,
        RequestStatus.DISBURSED,
        RequestStatus.OVERDUE,
        RequestStatus.SETTLED,
        RequestStatus.DEFAULTED,
    )
    owed = [
        (
            DocumentKind.CONFIRMATION_LETTER,
            "invoice:",
            Invoice.objects.filter(confirmed_at__lte=before),
        ),
        (
            DocumentKind.ASSIGNMENT_NOTICE,
            "request:",
            FinancingRequest.objects.filter(status__in=approved, decided_at__lte=before),
        ),
        (
            DocumentKind.FINANCING_AGREEMENT,
            "request:",
            FinancingRequest.objects.filter(disbursed_at__lte=before),
        ),
        (
            DocumentKind.REPAYMENT_STATEMENT,
            "request:",
            FinancingRequest.objects.filter(status=RequestStatus.SETTLED, settled_at__lte=before),
        ),
    ]
    missing: list[tuple[str, str]] = []
    for kind, prefix, queryset in owed:
        subjects = _without_document(queryset, kind, prefix).values_list(
            "document_subject", flat=True
        )
        missing.extend((str(kind), subject) for subject in subjects[: limit - len(missing)])
        if len(missing) >= limit:
            break
    return missing
