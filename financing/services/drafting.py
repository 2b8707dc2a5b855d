"""The applicant's steps of the request lifecycle: draft, submit (the product holds the
collateral, screening is queued), withdraw."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import FinancingRequest, Program
from financing.models import RequestStatus as S
from financing.products.registry import product_codes, product_for
from financing.services.screening import _queue_screening
from financing.services.transitions import (
    _event,
    _locked,
    _move,
    _product,
    _release_collateral,
    _release_limit,
    _tell,
    request_payload,
)
from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.clock import business_today
from scf_platform.errors import IllegalTransition
from scf_platform.models import Organization
from scf_platform.policy import (
    may_create_request,
    may_submit_request,
    may_withdraw_request,
    membership_of,
    require,
)


def financing_request_create(
    *,
    applicant: Organization,
    actor,
    product: str,
    program: Program,
    requested_amount: Decimal,
    **collateral,
) -> FinancingRequest:
    """A draft request of one program, against the collateral its product takes (receivables:
    `invoices`, ids of confirmed invoices). Nothing is held until submit."""
    require(may_create_request, membership_of(actor, applicant))
    errors: dict[str, list[str]] = {}
    offered = product_codes()
    if product not in offered:
        errors["product"] = [
            _("Not a product the platform offers: choose one of %(p)s.") % {"p": ", ".join(offered)}
        ]
    if requested_amount <= 0 or requested_amount.as_tuple().exponent < -2:
        errors["requested_amount"] = [_("A positive amount with at most two decimals.")]
    if product in offered:
        errors |= product_for(product).draft_errors(
            applicant=applicant,
            program=program,
            requested_amount=requested_amount,
            today=business_today(),
            **collateral,
        )
    if errors:
        raise ValidationError(errors)
    with business_transaction():
        request = FinancingRequest.objects.create(
            product=product,
            program=program,
            applicant=applicant,
            bank_id=program.bank_id,
            core_enterprise_id=program.core_enterprise_id,
            currency=program.currency,
            requested_amount=requested_amount,
            created_by=actor,
        )
        _product(request).collateral_attach(request=request, **collateral)
        _event(request, "", S.DRAFT, actor=actor, organization=applicant)
    return request


def financing_request_submit(*, request_id: int, applicant: Organization, actor):
    """Hold the collateral (the database decides races) and queue screening."""
    with business_transaction():
        request = _locked(request_id)
        require(may_submit_request, membership_of(actor, applicant), request)
        if request.status != S.DRAFT:
            raise IllegalTransition(_("Only a draft can be submitted."))
        now = timezone.now()
        _product(request).collateral_hold(request=request, at=now)
        _move(
            request,
            S.SUBMITTED,
            actor=actor,
            organization=applicant,
            fields={"submitted_by": actor, "submitted_at": now},
        )
        business_event_record(
            kind="collateral.held",
            subject=f"request:{request.pk}",
            parties=[request.applicant_id, request.bank_id, request.core_enterprise_id],
            payload=request_payload(request),
        )
        # Queued by name: the task module imports this one, not the other way round. Robust:
        # with the broker down the submit still stands (it is committed), and
        # requests_requeue_stale queues the screening again.
        transaction.on_commit(
            lambda: _queue_screening(request.pk, applicant_id=applicant.pk), robust=True
        )
    return request


def financing_request_withdraw(*, request_id: int, applicant: Organization, actor):
    with business_transaction():
        request = _locked(request_id)
        require(may_withdraw_request, membership_of(actor, applicant), request)
        was_queued = request.status == S.IN_REVIEW
        _release_limit(request, request.reserved_amount)
        _release_collateral(request)
        _move(request, S.WITHDRAWN, actor=actor, organization=applicant)
        if was_queued:
            _tell(request, request.bank, subject=lambda: _("A request in your queue was withdrawn"))
    return request
