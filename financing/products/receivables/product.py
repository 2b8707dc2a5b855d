"""Receivables financing as the lifecycle sees it (financing.products.base.FinancingProduct)."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.documents import DocumentKind
from financing.models import FinancingRequest, Product, Program
from financing.pricing import Quote
from financing.products.base import AlreadyFinanced, FinancingProduct, check
from financing.products.receivables import rules
from financing.products.receivables.models import ReceivableHold
from scf_platform.business_events import business_event_record
from scf_platform.models import Organization
from suppliers.models import Invoice
from suppliers.services import invoices_mark_financed, invoices_mark_paid


def _parties(request: FinancingRequest) -> list[int]:
    return [request.applicant_id, request.bank_id, request.core_enterprise_id]


class Receivables(FinancingProduct):
    code = Product.RECEIVABLES
    documents = (
        DocumentKind.FINANCING_AGREEMENT,
        DocumentKind.CONFIRMATION_LETTER,
        DocumentKind.ASSIGNMENT_NOTICE,
        DocumentKind.REPAYMENT_STATEMENT,
    )

    # Drafting ---------------------------------------------------------------------------------
    def draft_errors(
        self,
        *,
        applicant: Organization,
        program: Program,
        requested_amount: Decimal,
        today: date,
        invoices: list[int] = (),
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        ids = sorted(set(invoices))
        if not ids:
            errors["invoices"] = [_("Choose at least one confirmed invoice.")]
        found = {i.pk: i for i in Invoice.objects.visible_to(applicant).filter(pk__in=ids)}
        problems = []
        for invoice_id in ids:
            invoice = found.get(invoice_id)
            if invoice is None or invoice.seller_id != applicant.pk:
                problems.append(_("Invoice %(id)s is not one of yours.") % {"id": invoice_id})
                continue
            broken = [
                rule.refusal
                for rule in rules.financeable(
                    invoice, applicant=applicant, program=program, today=today
                )
                if not rule.holds
            ]
            if broken:
                problems.append(broken[0])
        if problems:
            errors["invoices"] = problems
        return errors

    def collateral_attach(self, *, request: FinancingRequest, invoices: list[int] = ()) -> None:
        held = ReceivableHold.objects.filter(invoice_id__in=invoices, active=True).values_list(
            "invoice__number", flat=True
        )
        if held:
            raise AlreadyFinanced(
                _("Already financed in another request: %(n)s.") % {"n": ", ".join(sorted(held))}
            )
        ReceivableHold.objects.bulk_create(
            ReceivableHold(
                request=request,
                invoice_id=invoice_id,
                applicant_id=request.applicant_id,
                bank_id=request.bank_id,
                core_enterprise_id=request.core_enterprise_id,
            )
            for invoice_id in sorted(set(invoices))
        )

    # Submit, release ---------------------------------------------------------------------------
    def collateral_hold(self, *, request: FinancingRequest, at) -> None:
        try:
            with transaction.atomic():
                ReceivableHold.objects.filter(request=request).update(active=True, held_at=at)
        except IntegrityError:
            raise AlreadyFinanced(
                _("An invoice of this request is already financed in another request.")
            ) from None

    def collateral_release(self, *, request: FinancingRequest) -> None:
        now = timezone.now()
        holds = ReceivableHold.objects.filter(request=request, active=True)
        held = list(holds.values_list("invoice_id", flat=True))
        holds.update(active=False, released_at=now)
        if held:
            business_event_record(
                kind="collateral.released",
                subject=f"request:{request.pk}",
                parties=_parties(request),
                payload={"request": request.pk, "invoices": sorted(held)},
            )

    def collateral_payload(self, request: FinancingRequest, collateral=None) -> dict:
        if collateral is None:
            ids = ReceivableHold.objects.filter(request=request).values_list(
                "invoice_id", flat=True
            )
        else:
            ids = [hold.invoice_id for hold in collateral]
        return {"invoices": sorted(ids)}

    # Screening and the quote -----------------------------------------------------------------
    def screening_read(self, requests: list[FinancingRequest]) -> dict[int, list[ReceivableHold]]:
        holds_of: dict[int, list[ReceivableHold]] = {r.pk: [] for r in requests}
        for hold in (
            ReceivableHold.objects.filter(request__in=requests)
            .select_related("invoice")
            .order_by("pk")
        ):
            holds_of[hold.request_id].append(hold)
        return holds_of

    def screening_checks(
        self, *, request: FinancingRequest, collateral: list[ReceivableHold], today: date
    ) -> tuple[list[dict], Quote]:
        program = request.program
        checks: list[dict] = []
        for hold in collateral:
            check(
                checks,
                "invoice_held",
                hold.active,
                _("Invoice %(n)s is held for this request only.") % {"n": hold.invoice.number},
            )
            for rule in rules.financeable(
                hold.invoice, applicant=request.applicant, program=program, today=today
            ):
                check(checks, rule.code, rule.holds, rule.says)
        # No check of the requested amount against the advance: the quote's advance is
        # min(requested, cap) (API.md), and the request is screened and funded at it.
        quote = rules.quote(
            program=program,
            requested_amount=request.requested_amount,
            invoices=[hold.invoice for hold in collateral],
            value_date=today,
        )
        return checks, quote

    def quote(self, request: FinancingRequest, *, value_date: date) -> Quote | None:
        # From the holds a list prefetched (`receivable_holds__invoice`) when it did, so that a
        # page of quotes costs no query a row.
        if "receivable_holds" in getattr(request, "_prefetched_objects_cache", {}):
            invoices = [hold.invoice for hold in request.receivable_holds.all()]
        else:
            invoices = Invoice.objects.filter(receivable_holds__request=request).only(
                "amount", "due_date"
            )
        return rules.quote(
            program=request.program,
            requested_amount=request.requested_amount,
            invoices=invoices,
            value_date=value_date,
        )

    # Money -------------------------------------------------------------------------------------
    def payee(self, request: FinancingRequest) -> Organization:
        return request.applicant

    def repayer(self, request: FinancingRequest) -> Organization:
        return request.core_enterprise

    def _held_invoice_ids(self, request: FinancingRequest) -> list[int]:
        return list(
            ReceivableHold.objects.filter(request=request, active=True).values_list(
                "invoice_id", flat=True
            )
        )

    def on_disbursed(self, *, request: FinancingRequest, actor, organization) -> None:
        invoices_mark_financed(
            invoice_ids=self._held_invoice_ids(request),
            actor=actor,
            actor_organization=organization,
            reference=f"request:{request.pk}",
        )

    def on_settled(self, *, request: FinancingRequest, actor, organization) -> None:
        invoices_mark_paid(
            invoice_ids=self._held_invoice_ids(request),
            actor=actor,
            actor_organization=organization,
            reference=f"request:{request.pk}",
        )


RECEIVABLES = Receivables()
