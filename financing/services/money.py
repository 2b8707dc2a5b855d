"""Money of the request lifecycle: the quote, disbursement (the value date fixes the quote),
repayment (late interest first, then principal), settlement and default."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import FinancingRequest, Repayment
from financing.models import RequestStatus as S
from financing.pricing import Quote
from financing.services.transitions import (
    _event_row,
    _locked,
    _move,
    _product,
    _release_collateral,
    _release_limit,
    _tell,
)
from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.clock import business_today
from scf_platform.errors import DomainError, IllegalTransition, NotPermitted
from scf_platform.models import Organization
from scf_platform.money import interest, round_half_up
from scf_platform.policy import (
    may_declare_default,
    may_disburse_request,
    may_record_repayment,
    membership_of,
    require,
)


def request_quote(request: FinancingRequest, *, value_date: date | None = None) -> Quote | None:
    """The quote as of `value_date` (today by default); once disbursed, the fixed one."""
    if request.value_date is not None:
        return Quote(
            advance_amount=request.advance_amount,
            discount_amount=request.discount_amount,
            net_proceeds=request.net_proceeds,
            annual_rate=request.annual_rate,
            days=request.days,
            day_count=request.day_count,
            apr=request.apr,
            value_date=request.value_date,
            maturity_date=request.maturity_date,
        )
    return _product(request).quote(request, value_date=value_date or business_today())


def financing_request_disburse(
    *, request_id: int, bank: Organization, actor, value_date: date | None = None
):
    """Pay the net proceeds; the value date fixes the quote."""
    with business_transaction():
        request = _locked(request_id)
        require(may_disburse_request, membership_of(actor, bank), request)
        if request.status != S.APPROVED:
            raise IllegalTransition(_("Only an approved request can be disbursed."))
        today = business_today()
        value_date = value_date or today
        errors = []
        if value_date > today:
            errors.append(_("The value date cannot be in the future."))
        screened_on = request.screening.get("value_date")
        if screened_on and value_date < date.fromisoformat(screened_on):
            errors.append(_("The value date cannot be before the request was screened."))
        quote = request_quote(request, value_date=value_date)
        if quote.days < 1:
            errors.append(_("The value date must be before the maturity date."))
        if errors:
            raise ValidationError({"value_date": errors})
        if quote.net_proceeds <= 0:
            # Screening refuses such a quote; this stands behind it (a program changed since).
            raise IllegalTransition(_("The net proceeds are not above zero: nothing to disburse."))
        if quote.advance_amount != request.reserved_amount:
            # The advance never depends on the date; a difference would mean a broken invariant.
            raise DomainError(_("The advance differs from the reserved amount."), code="mismatch")
        _move(
            request,
            S.DISBURSED,
            actor=actor,
            organization=bank,
            details=quote.as_dict(),
            fields={
                "advance_amount": quote.advance_amount,
                "discount_amount": quote.discount_amount,
                "net_proceeds": quote.net_proceeds,
                "annual_rate": quote.annual_rate,
                "day_count": quote.day_count,
                "days": quote.days,
                "apr": quote.apr,
                "value_date": value_date,
                "maturity_date": quote.maturity_date,
                "principal_outstanding": quote.advance_amount,
                "disbursed_at": timezone.now(),
            },
        )
        _product(request).on_disbursed(request=request, actor=actor, organization=bank)
        _tell(
            request,
            _product(request).payee(request),
            subject=lambda: _("%(a)s %(c)s was disbursed to you")
            % {"a": quote.net_proceeds, "c": request.currency},
        )
        _tell(
            request,
            _product(request).repayer(request),
            subject=lambda: _("You owe %(a)s %(c)s to %(b)s on %(d)s")
            % {
                "a": quote.advance_amount,
                "c": request.currency,
                "b": request.bank.name,
                "d": quote.maturity_date.isoformat(),
            },
        )
    return request


def _accrue_late_interest(request: FinancingRequest, through: date) -> None:
    """Bring late interest up to `through` on the principal outstanding (exact, unrounded)."""
    start = request.late_interest_through or request.maturity_date
    if request.status not in (S.DISBURSED, S.OVERDUE) or start is None or through <= start:
        return
    days = (through - start).days
    program = request.program
    request.late_interest_exact += interest(
        request.principal_outstanding, program.effective_late_rate, days, request.day_count
    )
    request.late_interest_through = through
    FinancingRequest.objects.filter(pk=request.pk).update(
        late_interest_exact=request.late_interest_exact, late_interest_through=through
    )


def late_interest_due(request: FinancingRequest) -> Decimal:
    return round_half_up(request.late_interest_exact) - request.late_interest_paid


def amount_outstanding(request: FinancingRequest) -> Decimal:
    return request.principal_outstanding + late_interest_due(request)


def financing_request_repay(
    *, request_id: int, payer: Organization, actor, amount: Decimal, paid_on: date
) -> Repayment:
    """The party that repays (its product says who: for receivables, the core enterprise) pays,
    fully or in parts: late interest first, then principal; the principal repaid frees the
    limit; nothing left owing settles the request."""
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise ValidationError({"amount": [_("A positive amount with at most two decimals.")]})
    with business_transaction():
        request = _locked(request_id)
        require(may_record_repayment, membership_of(actor, payer), request)
        if payer.pk != _product(request).repayer(request).pk:
            raise NotPermitted(
                _("Only the party that repays this financing records its repayment.")
            )
        if request.status not in (S.DISBURSED, S.OVERDUE):
            raise IllegalTransition(_("Only a disbursed or overdue request can be repaid."))
        if paid_on > business_today():
            raise ValidationError({"paid_on": [_("A repayment cannot be dated in the future.")]})
        if paid_on < request.value_date:
            raise ValidationError({"paid_on": [_("A repayment cannot precede the value date.")]})
        if request.status == S.OVERDUE:
            _accrue_late_interest(request, paid_on)
        outstanding = amount_outstanding(request)
        if amount > outstanding:
            raise ValidationError(
                {
                    "amount": [
                        _("Only %(o)s %(c)s is outstanding.")
                        % {"o": outstanding, "c": request.currency}
                    ]
                }
            )
        interest_part = min(amount, late_interest_due(request))
        principal_part = amount - interest_part
        repayment = Repayment.objects.create(
            request=request,
            applicant_id=request.applicant_id,
            bank_id=request.bank_id,
            core_enterprise_id=request.core_enterprise_id,
            payer=payer,
            amount=amount,
            principal_part=principal_part,
            late_interest_part=interest_part,
            paid_on=paid_on,
            recorded_by=actor,
        )
        request.principal_outstanding -= principal_part
        request.repaid_amount += amount
        request.late_interest_paid += interest_part
        FinancingRequest.objects.filter(pk=request.pk).update(
            principal_outstanding=request.principal_outstanding,
            repaid_amount=request.repaid_amount,
            late_interest_paid=request.late_interest_paid,
        )
        _release_limit(request, min(principal_part, request.reserved_amount))
        business_event_record(
            kind="request.repaid",
            subject=f"request:{request.pk}",
            parties=[request.applicant_id, request.bank_id, request.core_enterprise_id],
            payload={
                "request": request.pk,
                "repayment": repayment.pk,
                "amount": str(amount),
                "principal": str(principal_part),
                "late_interest": str(interest_part),
                "paid_on": paid_on.isoformat(),
            },
        )
        if amount_outstanding(request) == 0:
            _settle(request, actor=actor, organization=payer)
        else:
            # The request's history row only: "request.repaid" above is its ledger leaf.
            _event_row(
                request,
                request.status,
                request.status,
                actor=actor,
                organization=payer,
                reason=_("Repayment of %(a)s") % {"a": amount},
                details={
                    "repayment": repayment.pk,
                    "outstanding": str(amount_outstanding(request)),
                },
            ).save(force_insert=True)
        _tell(
            request,
            request.bank,
            request.applicant,
            subject=lambda: _("%(a)s %(c)s was repaid on request %(id)s")
            % {"a": amount, "c": request.currency, "id": request.pk},
        )
    return repayment


def _settle(request: FinancingRequest, *, actor, organization) -> None:
    _product(request).on_settled(request=request, actor=actor, organization=organization)
    _release_limit(request, request.reserved_amount)
    _release_collateral(request)
    _move(
        request,
        S.SETTLED,
        actor=actor,
        organization=organization,
        fields={"settled_at": timezone.now()},
    )


def financing_request_default(*, request_id: int, bank: Organization, actor, reason: str):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the request is declared in default.")]})
    with business_transaction():
        request = _locked(request_id)
        require(may_declare_default, membership_of(actor, bank), request)
        _move(request, S.DEFAULTED, actor=actor, organization=bank, reason=reason)
        _tell(
            request,
            request.applicant,
            request.core_enterprise,
            subject=lambda: _("Request %(id)s was declared in default") % {"id": request.pk},
            body=reason,
        )
    return request
