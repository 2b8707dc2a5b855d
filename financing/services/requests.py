"""The receivables financing workflow: draft, submit (collateral held), screening (Celery),
approval (four-eyes above a threshold), disbursement, repayment, overdue and settlement.

Every change of status is one transaction: the row is locked, the status checked against the
table of allowed transitions, the change and its event written together, the parties notified.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import (
    Approval,
    CollateralHold,
    FinancingRequest,
    Product,
    Program,
    ProgramParticipant,
    ProgramStatus,
    Repayment,
    RequestEvent,
)
from financing.models import RequestStatus as S
from financing.pricing import Quote, receivables_quote
from scf_platform.business_events import (
    business_event_record,
    business_events_held,
    business_transaction,
)
from scf_platform.celery import app
from scf_platform.clock import business_today
from scf_platform.errors import DomainError, IllegalTransition, NotPermitted
from scf_platform.models import Organization, Role
from scf_platform.money import interest, round_half_up
from scf_platform.notifications import Notice, notify, notify_many
from suppliers.models import Invoice, InvoiceStatus
from suppliers.services import invoices_mark_financed, invoices_mark_paid

SCREEN_TASK = "financing.tasks.screen_request"


class AlreadyFinanced(DomainError):
    code = "already_financed"


TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.IN_REVIEW, S.REJECTED, S.WITHDRAWN},
    S.IN_REVIEW: {S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.DISBURSED},
    S.DISBURSED: {S.OVERDUE, S.SETTLED},
    S.OVERDUE: {S.SETTLED, S.DEFAULTED},
}


# Helpers ---------------------------------------------------------------------------------------


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


def request_payload(request: FinancingRequest, *, invoices: list[int] | None = None) -> dict:
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
        "invoices": sorted(
            request.holds.values_list("invoice_id", flat=True) if invoices is None else invoices
        ),
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


def _event_record(request, from_status, to_status, *, reason="", details=None, invoices=None):
    """The transition's ledger entry; `invoices`: the held ids, when the caller has them."""
    business_event_record(
        kind=f"request.{to_status}" if from_status != to_status else "request.approval_recorded",
        subject=f"request:{request.pk}",
        parties=[request.applicant_id, request.bank_id, request.core_enterprise_id],
        payload={
            **request_payload(request, invoices=invoices),
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
    now = timezone.now()
    held = list(request.holds.filter(active=True).values_list("invoice_id", flat=True))
    request.holds.filter(active=True).update(active=False, released_at=now)
    if held:
        business_event_record(
            kind="collateral.released",
            subject=f"request:{request.pk}",
            parties=[request.applicant_id, request.bank_id, request.core_enterprise_id],
            payload={"request": request.pk, "invoices": sorted(held)},
        )


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


def _invoice_total(request: FinancingRequest) -> Decimal:
    return request.holds.aggregate(total=Sum("invoice__amount"))["total"] or Decimal(0)


def _maturity(request: FinancingRequest) -> date | None:
    return max(request.holds.values_list("invoice__due_date", flat=True), default=None)


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
    maturity = _maturity(request)
    if maturity is None:
        return None
    program = request.program
    return receivables_quote(
        requested_amount=request.requested_amount,
        invoice_total=_invoice_total(request),
        advance_rate=program.advance_rate,
        annual_rate=program.annual_rate,
        day_count=program.day_count,
        maturity_date=maturity,
        value_date=value_date or business_today(),
    )


# Draft -----------------------------------------------------------------------------------------


def financing_request_create(
    *,
    applicant: Organization,
    actor,
    product: str,
    program: Program,
    requested_amount: Decimal,
    invoices: list[int],
) -> FinancingRequest:
    """A draft request for confirmed invoices of one program. Nothing is held until submit."""
    errors: dict[str, list[str]] = {}
    if product != Product.RECEIVABLES:
        errors["product"] = [_("This endpoint takes receivables financing.")]
    if requested_amount <= 0 or requested_amount.as_tuple().exponent < -2:
        errors["requested_amount"] = [_("A positive amount with at most two decimals.")]
    ids = sorted(set(invoices))
    if not ids:
        errors["invoices"] = [_("Choose at least one confirmed invoice.")]
    found = {i.pk: i for i in Invoice.objects.visible_to(applicant).filter(pk__in=ids)}
    problems = []
    for invoice_id in ids:
        invoice = found.get(invoice_id)
        if invoice is None or invoice.seller_id != applicant.pk:
            problems.append(_("Invoice %(id)s is not one of yours.") % {"id": invoice_id})
        elif invoice.status != InvoiceStatus.CONFIRMED:
            problems.append(
                _("Invoice %(n)s is %(s)s, not confirmed.")
                % {"n": invoice.number, "s": invoice.get_status_display().lower()}
            )
        elif invoice.buyer_id != program.core_enterprise_id:
            problems.append(
                _("Invoice %(n)s is not owed by the program's core enterprise.")
                % {"n": invoice.number}
            )
        elif invoice.currency != program.currency:
            problems.append(
                _("Invoice %(n)s is in %(c)s; the program lends in %(p)s.")
                % {"n": invoice.number, "c": invoice.currency, "p": program.currency}
            )
    if problems:
        errors["invoices"] = problems
    if errors:
        raise ValidationError(errors)
    held = CollateralHold.objects.filter(invoice_id__in=ids, active=True).values_list(
        "invoice__number", flat=True
    )
    if held:
        raise AlreadyFinanced(
            _("Already financed in another request: %(n)s.") % {"n": ", ".join(sorted(held))}
        )
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
        CollateralHold.objects.bulk_create(
            CollateralHold(
                request=request,
                invoice_id=invoice_id,
                applicant=applicant,
                bank_id=program.bank_id,
                core_enterprise_id=program.core_enterprise_id,
            )
            for invoice_id in ids
        )
        _event(request, "", S.DRAFT, actor=actor, organization=applicant)
    return request


# Submit and screening --------------------------------------------------------------------------


def financing_request_submit(*, request_id: int, applicant: Organization, actor):
    """Hold the collateral (the database decides races) and queue screening."""
    with business_transaction():
        request = _locked(request_id)
        if request.applicant_id != applicant.pk:
            raise NotPermitted(_("Only the applicant submits its request."))
        if request.status != S.DRAFT:
            raise IllegalTransition(_("Only a draft can be submitted."))
        now = timezone.now()
        try:
            with transaction.atomic():
                CollateralHold.objects.filter(request=request).update(active=True, held_at=now)
        except IntegrityError:
            raise AlreadyFinanced(
                _("An invoice of this request is already financed in another request.")
            ) from None
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


def _queue_screening(request_id: int, *, applicant_id: int) -> None:
    scope = {"organization_id": applicant_id}
    # By name, so the task's ignore_result does not apply: nothing reads a screening's result.
    app.send_task(SCREEN_TASK, args=[request_id], kwargs={"scope": scope}, ignore_result=True)


def _check(checks: list, code: str, passed: bool, message: str) -> None:
    checks.append({"code": code, "passed": bool(passed), "message": str(message)})


def _screening_checks(
    request: FinancingRequest, participant, holds: list[CollateralHold], today: date
) -> tuple[list[dict], Quote]:
    """Every rule but the limits, checked against what was read for the request; the quote of
    today. Reads nothing."""
    program: Program = request.program
    checks: list[dict] = []
    _check(
        checks,
        "program_active",
        program.status == ProgramStatus.ACTIVE,
        _("The program is active."),
    )
    _check(
        checks,
        "product_offered",
        program.offers(request.product),
        _("The program offers %(p)s.") % {"p": request.get_product_display()},
    )
    _check(
        checks,
        "applicant_onboarded",
        participant is not None,
        _("The applicant is onboarded into the program."),
    )
    for hold in holds:
        invoice = hold.invoice
        label = invoice.number
        _check(
            checks,
            "invoice_held",
            hold.active,
            _("Invoice %(n)s is held for this request only.") % {"n": label},
        )
        _check(
            checks,
            "invoice_confirmed",
            invoice.status == InvoiceStatus.CONFIRMED,
            _("Invoice %(n)s is confirmed by the buyer.") % {"n": label},
        )
        _check(
            checks,
            "invoice_of_core_enterprise",
            invoice.buyer_id == program.core_enterprise_id
            and invoice.seller_id == request.applicant_id,
            _("Invoice %(n)s is the applicant's, owed by the core enterprise.") % {"n": label},
        )
        _check(
            checks,
            "invoice_not_past_due",
            invoice.due_date > today,
            _("Invoice %(n)s is not past due.") % {"n": label},
        )
        _check(
            checks,
            "invoice_within_tenor",
            (invoice.due_date - today).days <= program.max_tenor_days,
            _("Invoice %(n)s falls due within %(d)s days.")
            % {"n": label, "d": program.max_tenor_days},
        )
    invoice_total = sum((hold.invoice.amount for hold in holds), Decimal(0))
    quote = receivables_quote(
        requested_amount=request.requested_amount,
        invoice_total=invoice_total,
        advance_rate=program.advance_rate,
        annual_rate=program.annual_rate,
        day_count=program.day_count,
        maturity_date=max((hold.invoice.due_date for hold in holds), default=today),
        value_date=today,
    )
    # No check of the requested amount against the advance: the quote's advance is
    # min(requested, cap) (API.md), and the request is screened and funded at it.
    return checks, quote


def _limits_reserve(checks: list[dict], program: Program, participant, amount: Decimal) -> bool:
    """Reserve `amount` on the (locked) program and sub-limit rows as read, recording the limit
    checks; the caller writes the sums. The CHECK constraints on `utilized` stay the backstop."""
    program_ok = program.utilized <= program.credit_limit - amount
    _check(
        checks,
        "program_limit",
        program_ok,
        _("The program's available limit covers %(a)s.") % {"a": amount},
    )
    if not program_ok:
        return False
    sub_limit_ok = participant.limit is None or participant.utilized <= participant.limit - amount
    _check(
        checks,
        "sub_limit",
        sub_limit_ok,
        _("The applicant's sub-limit covers %(a)s.") % {"a": amount},
    )
    if not sub_limit_ok:
        return False
    program.utilized += amount
    participant.utilized += amount
    return True


def _claim_for_screening(request_id: int, applicant_id: int) -> list[FinancingRequest]:
    """`request_id` (unless another transaction holds it) and the applicant's other submitted
    requests waiting behind it, oldest first, locked. Rows another screening holds are skipped:
    that transaction screens them."""
    limit = settings.SCREENING_BATCH_SIZE
    return list(
        FinancingRequest.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
        .select_related("program", "applicant", "bank")
        .filter(applicant_id=applicant_id, status=S.SUBMITTED)
        .annotate(this_one=Case(When(pk=request_id, then=0), default=1))
        .order_by("this_one", "submitted_at", "pk")[:limit]
    )


def financing_request_screen(*, request_id: int) -> FinancingRequest:
    """Screen a submitted request: every rule is checked and recorded; pass → the bank's queue,
    fail → rejected with every reason. A request no longer `submitted` is left alone, so a
    redelivered task never screens twice.

    The applicant's other submitted requests waiting behind it are screened in the same
    transaction (at most SCREENING_BATCH_SIZE, oldest first, each exactly as if alone): under
    a burst, most tasks then find their request screened and return at once, and the reads and
    writes of a batch are a handful of statements instead of a few dozen per request."""
    request = FinancingRequest.objects.get(pk=request_id)
    if request.status != S.SUBMITTED:
        return request
    with business_transaction():
        batch = _claim_for_screening(request_id, request.applicant_id)
        if batch:
            _screen_batch(batch)
    screened = {r.pk: r for r in batch}
    # Not in the batch: another transaction held it, and has screened it.
    return screened.get(request_id) or FinancingRequest.objects.get(pk=request_id)


def _screen_batch(batch: list[FinancingRequest]) -> None:
    """Screen locked, submitted requests of one applicant, in order; one transaction."""
    today = business_today()
    now = timezone.now()
    holds_of: dict[int, list[CollateralHold]] = {r.pk: [] for r in batch}
    for hold in (
        CollateralHold.objects.filter(request__in=batch).select_related("invoice").order_by("pk")
    ):
        holds_of[hold.request_id].append(hold)
    # Limits are read locked (ledger, requests, programs, sub-limits: the order every service
    # locks in) and reserved in order; what was reserved is added once per row.
    programs = {
        p.pk: p
        for p in Program.objects.select_for_update(no_key=True).filter(
            pk__in={r.program_id for r in batch}
        )
    }
    participants = {
        (p.program_id, p.organization_id): p
        for p in ProgramParticipant.objects.select_for_update(no_key=True).filter(
            program_id__in=programs, organization_id__in={r.applicant_id for r in batch}
        )
    }
    before = {
        "programs": {pk: p.utilized for pk, p in programs.items()},
        "participants": {key: p.utilized for key, p in participants.items()},
    }
    decisions = []
    for request in batch:
        request.program = programs[request.program_id]
        participant = participants.get((request.program_id, request.applicant_id))
        holds = holds_of[request.pk]
        checks, quote = _screening_checks(request, participant, holds, today)
        passed = all(check["passed"] for check in checks) and _limits_reserve(
            checks, request.program, participant, quote.advance_amount
        )
        fields = {
            "screening": {
                "checked_at": now.isoformat(),
                "value_date": today.isoformat(),
                "passed": passed,
                "checks": checks,
                "quote": quote.as_dict(),
            },
            "screened_at": now,
        }
        if passed:
            fields.update(
                queued_at=now,
                advance_amount=quote.advance_amount,
                maturity_date=quote.maturity_date,
                reserved_amount=request.reserved_amount + quote.advance_amount,
            )
        else:
            fields["decided_at"] = now
        decisions.append((request, passed, fields, sorted(h.invoice_id for h in holds)))

    _write_limits(programs, participants, before)
    events, notices = [], []
    # One ledger append for the batch's events, in the order they happen.
    with business_events_held():
        for request, passed, fields, invoices in decisions:
            checks = fields["screening"]["checks"]
            if passed:
                to_status, reason, details = S.IN_REVIEW, "", {"checks": len(checks)}
            else:
                reasons = [c["code"] for c in checks if not c["passed"]]
                to_status, reason, details = S.REJECTED, ", ".join(reasons), {"reasons": reasons}
                _release_collateral(request)
            _transition(request, to_status, fields)
            events.append(
                _event_row(
                    request,
                    S.SUBMITTED,
                    to_status,
                    actor=None,
                    organization=None,
                    reason=reason,
                    details=details,
                )
            )
            _event_record(
                request, S.SUBMITTED, to_status, reason=reason, details=details, invoices=invoices
            )
            notices.append(_screening_notice(request))
    RequestEvent.objects.bulk_create(events)
    notify_many(notices)


def _write_limits(programs: dict, participants: dict, before: dict) -> None:
    """What a batch reserved, added to each program and sub-limit in one update each."""
    for pk, program in programs.items():
        added = program.utilized - before["programs"][pk]
        if added:
            Program.objects.filter(pk=pk).update(utilized=F("utilized") + added)
    for key, participant in participants.items():
        added = participant.utilized - before["participants"][key]
        if added:
            ProgramParticipant.objects.filter(pk=participant.pk).update(
                utilized=F("utilized") + added
            )


def _screening_notice(request: FinancingRequest) -> Notice:
    """In review: the bank's checkers are told; rejected: the applicant, with every reason."""
    if request.status == S.IN_REVIEW:
        quote = request.screening["quote"]
        return Notice(
            request.bank,
            lambda: _("A request waits for review: %(a)s %(c)s")
            % {"a": quote["advance_amount"], "c": request.currency},
            link=_request_link(request),
            roles=(Role.CHECKER, Role.ADMIN),
        )
    checks = request.screening["checks"]
    return Notice(
        request.applicant,
        lambda: _("Your request was rejected at screening"),
        body="\n".join(c["message"] for c in checks if not c["passed"]),
        link=_request_link(request),
    )


# Bank decisions --------------------------------------------------------------------------------


def _approvals_needed(request: FinancingRequest) -> int:
    amount = request.advance_amount or request.requested_amount
    return 2 if amount > request.program.dual_approval_threshold else 1


def approvals_needed(request: FinancingRequest) -> int:
    """How many different bank checkers must approve the request (the four-eyes rule)."""
    return _approvals_needed(request)


def _not_the_preparer(request: FinancingRequest, actor) -> None:
    if actor.pk in {request.created_by_id, request.submitted_by_id}:
        raise NotPermitted(_("Whoever prepared or submitted a request never approves it."))


def financing_request_approve(*, request_id: int, bank: Organization, actor, comment: str = ""):
    """A bank checker approves; above the program's threshold the first approval is recorded
    and a second, different checker's moves the request to approved."""
    with business_transaction():
        request = _locked(request_id)
        if request.bank_id != bank.pk:
            raise NotPermitted(_("Only the request's bank decides on it."))
        if request.status != S.IN_REVIEW:
            raise IllegalTransition(
                _("Only a request in review can be approved; this one is %(s)s.")
                % {"s": request.get_status_display()}
            )
        _not_the_preparer(request, actor)
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
        if request.bank_id != bank.pk:
            raise NotPermitted(_("Only the request's bank decides on it."))
        if request.status != S.IN_REVIEW:
            raise IllegalTransition(_("Only a request in review can be rejected."))
        _not_the_preparer(request, actor)
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


def financing_request_withdraw(*, request_id: int, applicant: Organization, actor):
    with business_transaction():
        request = _locked(request_id)
        if request.applicant_id != applicant.pk:
            raise NotPermitted(_("Only the applicant withdraws its request."))
        was_queued = request.status == S.IN_REVIEW
        _release_limit(request, request.reserved_amount)
        _release_collateral(request)
        _move(request, S.WITHDRAWN, actor=actor, organization=applicant)
        if was_queued:
            _tell(request, request.bank, subject=lambda: _("A request in your queue was withdrawn"))
    return request


# Money -----------------------------------------------------------------------------------------


def financing_request_disburse(
    *, request_id: int, bank: Organization, actor, value_date: date | None = None
):
    """Pay the net proceeds; the value date fixes the quote."""
    with business_transaction():
        request = _locked(request_id)
        if request.bank_id != bank.pk:
            raise NotPermitted(_("Only the request's bank disburses."))
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
        invoices_mark_financed(
            invoice_ids=request.holds.filter(active=True).values_list("invoice_id", flat=True),
            actor=actor,
            actor_organization=bank,
            reference=f"request:{request.pk}",
        )
        _tell(
            request,
            request.applicant,
            subject=lambda: _("%(a)s %(c)s was disbursed to you")
            % {"a": quote.net_proceeds, "c": request.currency},
        )
        _tell(
            request,
            request.core_enterprise,
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
    """The core enterprise pays, fully or in parts: late interest first, then principal; the
    principal repaid frees the limit; nothing left owing settles the request."""
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise ValidationError({"amount": [_("A positive amount with at most two decimals.")]})
    with business_transaction():
        request = _locked(request_id)
        if payer.pk != request.core_enterprise_id:
            raise NotPermitted(_("The core enterprise repays a receivables financing."))
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
            _event(
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
            )
        _tell(
            request,
            request.bank,
            request.applicant,
            subject=lambda: _("%(a)s %(c)s was repaid on request %(id)s")
            % {"a": amount, "c": request.currency, "id": request.pk},
        )
    return repayment


def _settle(request: FinancingRequest, *, actor, organization) -> None:
    invoices_mark_paid(
        invoice_ids=request.holds.filter(active=True).values_list("invoice_id", flat=True),
        actor=actor,
        actor_organization=organization,
        reference=f"request:{request.pk}",
    )
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
        if request.bank_id != bank.pk:
            raise NotPermitted(_("Only the request's bank declares a default."))
        _move(request, S.DEFAULTED, actor=actor, organization=bank, reason=reason)
        _tell(
            request,
            request.applicant,
            request.core_enterprise,
            subject=lambda: _("Request %(id)s was declared in default") % {"id": request.pk},
            body=reason,
        )
    return request


# Daily and periodic runs (beat) ----------------------------------------------------------------


def requests_mark_overdue(*, today: date | None = None) -> int:
    """Disbursed requests past maturity become overdue; late interest accrues on every overdue
    request up to today. Safe to run any number of times a day."""
    today = today or business_today()
    due_ids = list(
        FinancingRequest.objects.filter(status=S.DISBURSED, maturity_date__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = sum(_mark_overdue(request_id) for request_id in due_ids)
    overdue_ids = list(
        FinancingRequest.objects.filter(status=S.OVERDUE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for request_id in overdue_ids:
        with business_transaction():
            _accrue_late_interest(_locked(request_id), today)
    return moved


def _mark_overdue(request_id: int) -> bool:
    with business_transaction():
        request = _locked(request_id)
        if request.status != S.DISBURSED:
            return False
        _move(
            request,
            S.OVERDUE,
            actor=None,
            organization=None,
            reason=_("Not repaid at maturity (%(d)s).") % {"d": request.maturity_date},
        )
        _tell(
            request,
            request.core_enterprise,
            request.bank,
            request.applicant,
            subject=lambda: _("Request %(id)s is overdue") % {"id": request.pk},
        )
    return True


def requests_remind_due(*, today: date | None = None) -> int:
    """Remind the core enterprise of what falls due within the program's reminder days, once."""
    today = today or business_today()
    candidates = FinancingRequest.objects.filter(
        status=S.DISBURSED, reminded_at__isnull=True, maturity_date__gte=today
    ).select_related("program")
    return sum(
        _remind(request)
        for request in candidates
        if request.maturity_date - timedelta(days=request.program.reminder_days) <= today
    )


def _remind(request: FinancingRequest) -> bool:
    with transaction.atomic():
        claimed = FinancingRequest.objects.filter(pk=request.pk, reminded_at__isnull=True).update(
            reminded_at=timezone.now()
        )
        if claimed != 1:
            return False
        _tell(
            request,
            request.core_enterprise,
            subject=lambda: _("%(a)s %(c)s falls due on %(d)s (request %(id)s)")
            % {
                "a": amount_outstanding(request),
                "c": request.currency,
                "d": request.maturity_date.isoformat(),
                "id": request.pk,
            },
        )
    return True


def requests_escalate_waiting(*, now=None) -> int:
    """Requests waiting in a bank's queue past the program's SLA: the bank's admins are told,
    once per request (the conditional update on escalated_at makes it once)."""
    now = now or timezone.now()
    waiting = FinancingRequest.objects.filter(
        status=S.IN_REVIEW, escalated_at__isnull=True
    ).select_related("program", "bank")
    return sum(
        _escalate(request, now)
        for request in waiting
        if request.queued_at + timedelta(hours=request.program.sla_hours) <= now
    )


def _escalate(request: FinancingRequest, now) -> bool:
    with transaction.atomic():
        claimed = FinancingRequest.objects.filter(
            pk=request.pk, status=S.IN_REVIEW, escalated_at__isnull=True
        ).update(escalated_at=now)
        if claimed != 1:
            return False
        hours = int((now - request.queued_at).total_seconds() // 3600)
        _tell(
            request,
            request.bank,
            roles=(Role.ADMIN,),
            subject=lambda: _("Request %(id)s has waited %(h)s hours (SLA %(s)s hours)")
            % {"id": request.pk, "h": hours, "s": request.program.sla_hours},
        )
    return True


# A submitted request whose screening task was lost (a broker restarted with nothing on disk) is
# queued again after this long; a duplicate task finds the request screened and does nothing.
REQUEUE_SUBMITTED_AFTER = timedelta(minutes=5)


def requests_requeue_stale(*, older_than: timedelta = REQUEUE_SUBMITTED_AFTER, now=None) -> int:
    """Queue screening again for every request still `submitted` `older_than` after its submit.
    The database, not the broker, says what still needs screening: the submit is committed
    before its task is sent. Returns how many were queued."""
    now = now or timezone.now()
    stale = list(
        FinancingRequest.objects.filter(status=S.SUBMITTED, submitted_at__lte=now - older_than)
        .order_by("pk")
        .values_list("pk", "applicant_id")
    )
    for request_id, applicant_id in stale:
        _queue_screening(request_id, applicant_id=applicant_id)
    return len(stale)
