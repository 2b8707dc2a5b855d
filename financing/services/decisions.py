"""The bank's decisions on a request in its queue: approval (four-eyes above the program's
threshold) and rejection."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import Approval, FinancingRequest
from financing.models import RequestStatus as S
from financing.services.transitions import (
    _event,
    _locked,
    _move,
    _release_collateral,
    _release_limit,
    _tell,
)
from scf_platform.business_events import business_transaction
from scf_platform.errors import IllegalTransition
from scf_platform.models import Organization, Role
from scf_platform.policy import may_approve_request, may_reject_request, membership_of, require


def _approvals_needed(request: FinancingRequest) -> int:
    amount = request.advance_amount or request.requested_amount
    return 2 if amount > request.program.dual_approval_threshold else 1


def approvals_needed(request: FinancingRequest) -> int:
    """How many different bank checkers must approve the request (the four-eyes rule)."""
    return _approvals_needed(request)


def financing_request_approve(*, request_id: int, bank: Organization, actor, comment: str = ""):
    """A bank checker approves; above the program's threshold the first approval is recorded
    and a second, different checker's moves the request to approved."""
    with business_transaction():
        request = _locked(request_id)
        require(may_approve_request, membership_of(actor, bank), request)
        if request.status != S.IN_REVIEW:
            raise IllegalTransition(
                _("Only a request in review can be approved; this one is %(s)s.")
                % {"s": request.get_status_display()}
            )
        if request.approvals.filter(checker=actor).exists():
            raise IllegalTransition(
                _("You approved this request already; another checker must approve it."),
                code="second_checker_required",
            )
        Approval.objects.create(request=request, bank=bank, checker=actor, comment=comment)
        count = request.approvals.count()
        needed = _approvals_needed(request)
        if count < needed:
            _event(
                request,
                S.IN_REVIEW,
                S.IN_REVIEW,
                actor=actor,
                organization=bank,
                reason=comment,
                details={"approvals": count, "needed": needed},
            )
            _tell(
                request,
                bank,
                subject=lambda: _("A second approval is needed"),
                roles=(Role.CHECKER,),
            )
            return request
        _move(
            request,
            S.APPROVED,
            actor=actor,
            organization=bank,
            reason=comment,
            details={"approvals": count, "needed": needed},
            fields={"decided_at": timezone.now()},
        )
        _tell(
            request,
            request.applicant,
            request.core_enterprise,
            subject=lambda: _("Financing request %(id)s was approved") % {"id": request.pk},
        )
    return request


def financing_request_reject(*, request_id: int, bank: Organization, actor, reason: str):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the request is rejected.")]})
    with business_transaction():
        request = _locked(request_id)
        require(may_reject_request, membership_of(actor, bank), request)
        if request.status != S.IN_REVIEW:
            raise IllegalTransition(_("Only a request in review can be rejected."))
        _release_limit(request, request.reserved_amount)
        _release_collateral(request)
        _move(
            request,
            S.REJECTED,
            actor=actor,
            organization=bank,
            reason=reason,
            fields={"decided_at": timezone.now()},
        )
        _tell(
            request,
            request.applicant,
            subject=lambda: _("Your financing request was rejected"),
            body=reason,
        )
    return request
