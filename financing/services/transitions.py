"""The request lifecycle's moves, shared by every product: the table of allowed transitions,
the locked request, the status change with its event and ledger entry, the notices, the limit
given back. Every change of status is one business transaction: the row is locked, the status
checked against the table, the change and its event written together, the parties notified.
"""

from decimal import Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from financing.models import (
    FinancingRequest,
    Program,
    ProgramParticipant,
    RequestEvent,
)
from financing.models import RequestStatus as S
from financing.products.base import FinancingProduct
from financing.products.registry import product_for
from scf_platform.business_events import business_event_record
from scf_platform.errors import IllegalTransition
from scf_platform.models import Organization
from scf_platform.notifications import notify

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.IN_REVIEW, S.REJECTED, S.WITHDRAWN},
    S.IN_REVIEW: {S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.DISBURSED},
    S.DISBURSED: {S.OVERDUE, S.SETTLED},
    S.OVERDUE: {S.SETTLED, S.DEFAULTED},
}


def _product(request: FinancingRequest) -> FinancingProduct:
    """The request's product, from the registry."""
    return product_for(request.product)


def _locked(request_id: int) -> FinancingRequest:
    """The request, locked, in the caller's business_transaction()."""
    # The join locks the program row too. NO KEY UPDATE, not UPDATE: a plain FOR UPDATE also
    # blocks the foreign-key checks (FOR KEY SHARE, deferred to COMMIT) of every transaction that
    # inserts a row pointing at the program, and with the ledger's head lock taken in between,
    # a create and a submit of one program deadlocked.
    return (
        FinancingRequest.objects.select_for_update(no_key=True)
        .select_related("program")
        .get(pk=request_id)
    )


def _request_link(request: FinancingRequest) -> str:
    return f"/portal/requests/{request.pk}/"


def request_payload(request: FinancingRequest, *, collateral=None) -> dict:
    """What a request's business events say of it; its collateral as its product names it
    (`collateral`: what the product read already, when the caller has it)."""
    return {
        "request": request.pk,
        "product": request.product,
        "program": request.program_id,
        "applicant": request.applicant_id,
        "bank": request.bank_id,
        "core_enterprise": request.core_enterprise_id,
        "currency": request.currency,
        "requested_amount": str(request.requested_amount),
        "status": request.status,
        **_product(request).collateral_payload(request, collateral),
    }


def _move(
    request: FinancingRequest,
    to_status: str,
    *,
    actor,
    organization: Organization | None,
    reason: str = "",
    details: dict | None = None,
    fields: dict | None = None,
) -> FinancingRequest:
    """Change the (locked) request's status, with its event, in the caller's transaction."""
    from_status = _transition(request, to_status, fields)
    _event(
        request,
        from_status,
        to_status,
        actor=actor,
        organization=organization,
        reason=reason,
        details=details,
    )
    return request


def _transition(request: FinancingRequest, to_status: str, fields: dict | None) -> str:
    """The status change of `_move` without its event; returns the status it left."""
    from_status = request.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise IllegalTransition(
            _("A request that is %(from)s cannot become %(to)s.")
            % {"from": request.get_status_display(), "to": S(to_status).label}
        )
    updates = {"status": to_status, **(fields or {})}
    # The conditional update is the guard: it changes the row only in the expected state.
    changed = FinancingRequest.objects.filter(pk=request.pk, status=from_status).update(**updates)
    if changed != 1:
        raise IllegalTransition(_("The request changed meanwhile; reload it."))
    for name, value in updates.items():
        setattr(request, name, value)
    return from_status


def _event(request, from_status, to_status, *, actor, organization, reason="", details=None):
    """The transition's event row and ledger entry."""
    _event_row(
        request,
        from_status,
        to_status,
        actor=actor,
        organization=organization,
        reason=reason,
        details=details,
    ).save(force_insert=True)
    _event_record(request, from_status, to_status, reason=reason, details=details)


def _event_row(
    request, from_status, to_status, *, actor, organization, reason="", details=None
) -> RequestEvent:
    return RequestEvent(
        request=request,
        applicant_id=request.applicant_id,
        bank_id=request.bank_id,
        core_enterprise_id=request.core_enterprise_id,
        actor=actor,
        actor_organization=organization,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details or {},
    )


def _event_record(request, from_status, to_status, *, reason="", details=None, collateral=None):
    """The transition's ledger entry; `collateral`: as the product read it, when the caller has
    it."""
    business_event_record(
        kind=f"request.{to_status}" if from_status != to_status else "request.approval_recorded",
        subject=f"request:{request.pk}",
        parties=[request.applicant_id, request.bank_id, request.core_enterprise_id],
        payload={
            **request_payload(request, collateral=collateral),
            "from": from_status,
            "reason": reason,
            "details": details or {},
        },
    )


def _tell(
    request: FinancingRequest, *organizations: Organization, subject, body="", roles=()
) -> None:
    """Notify each organization; `subject` is a callable, worded in each recipient's language."""
    for organization in organizations:
        notify(
            organization=organization,
            subject=subject,
            body=body,
            link=_request_link(request),
            roles=roles,
        )


def _release_collateral(request: FinancingRequest) -> None:
    """Free what the request holds (its product knows what that is)."""
    _product(request).collateral_release(request=request)


def _release_limit(request: FinancingRequest, amount: Decimal) -> None:
    """Give `amount` of the request's reservation back to the program and the sub-limit."""
    if amount <= 0:
        return
    Program.objects.filter(pk=request.program_id).update(utilized=F("utilized") - amount)
    ProgramParticipant.objects.filter(
        program_id=request.program_id, organization_id=request.applicant_id
    ).update(utilized=F("utilized") - amount)
    FinancingRequest.objects.filter(pk=request.pk).update(
        reserved_amount=F("reserved_amount") - amount
    )
    request.reserved_amount -= amount
