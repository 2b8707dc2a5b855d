"""Screening (Celery): every rule checked and recorded, the limits reserved, the request sent to
the bank's queue or rejected with every reason; the lifecycle's checks here, the product's from
the registry."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, When
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import (
    FinancingRequest,
    Program,
    ProgramParticipant,
    ProgramStatus,
    RequestEvent,
)
from financing.models import RequestStatus as S
from financing.pricing import Quote
from financing.products.base import check
from financing.products.registry import product_for
from financing.services.transitions import (
    _event_record,
    _event_row,
    _product,
    _release_collateral,
    _request_link,
    _transition,
)
from scf_platform.business_events import business_events_held, business_transaction
from scf_platform.celery import app
from scf_platform.clock import business_today
from scf_platform.models import Role
from scf_platform.notifications import Notice, notify_many

SCREEN_TASK = "financing.tasks.screen_request"


def _queue_screening(request_id: int, *, applicant_id: int) -> None:
    scope = {"organization_id": applicant_id}
    # By name, so the task's ignore_result does not apply: nothing reads a screening's result.
    app.send_task(SCREEN_TASK, args=[request_id], kwargs={"scope": scope}, ignore_result=True)


def _screening_checks(
    request: FinancingRequest, participant, collateral, today: date
) -> tuple[list[dict], Quote]:
    """Every rule but the limits, checked against what was read for the request (the
    lifecycle's, then its product's on `collateral`); the quote of today. Reads nothing."""
    program: Program = request.program
    checks: list[dict] = []
    check(
        checks,
        "program_active",
        program.status == ProgramStatus.ACTIVE,
        _("The program is active."),
    )
    check(
        checks,
        "product_offered",
        program.offers(request.product),
        _("The program offers %(p)s.") % {"p": request.get_product_display()},
    )
    check(
        checks,
        "applicant_onboarded",
        participant is not None,
        _("The applicant is onboarded into the program."),
    )
    product_checks, quote = _product(request).screening_checks(
        request=request, collateral=collateral, today=today
    )
    # Whatever the product: a quote that pays nothing (or less) is no financing (issue 12).
    check(
        product_checks,
        "net_proceeds_positive",
        quote is not None and quote.net_proceeds > 0,
        _("The net proceeds are above zero."),
    )
    return checks + product_checks, quote


def _limits_reserve(checks: list[dict], program: Program, participant, amount: Decimal) -> bool:
    """Reserve `amount` on the (locked) program and sub-limit rows as read, recording the limit
    checks; the caller writes the sums. The CHECK constraints on `utilized` stay the backstop."""
    program_ok = program.utilized <= program.credit_limit - amount
    check(
        checks,
        "program_limit",
        program_ok,
        _("The program's available limit covers %(a)s.") % {"a": amount},
    )
    if not program_ok:
        return False
    sub_limit_ok = participant.limit is None or participant.utilized <= participant.limit - amount
    check(
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
    # Each product reads the collateral of its requests in the batch at once.
    collateral_of: dict[int, object] = {}
    for code in {r.product for r in batch}:
        collateral_of |= product_for(code).screening_read([r for r in batch if r.product == code])
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
        collateral = collateral_of[request.pk]
        checks, quote = _screening_checks(request, participant, collateral, today)
        passed = all(c["passed"] for c in checks) and _limits_reserve(
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
        decisions.append((request, passed, fields, collateral))

    _write_limits(programs, participants, before)
    events, notices = [], []
    # One ledger append for the batch's events, in the order they happen.
    with business_events_held():
        for request, passed, fields, collateral in decisions:
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
                request,
                S.SUBMITTED,
                to_status,
                reason=reason,
                details=details,
                collateral=collateral,
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
