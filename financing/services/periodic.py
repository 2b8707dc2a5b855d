"""Daily and periodic runs of the request lifecycle (beat): overdue marking and late interest,
due-date reminders, escalation past the SLA, screening queued again when its task was lost."""

import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.models import FinancingRequest
from financing.models import RequestStatus as S
from financing.services.money import _accrue_late_interest, amount_outstanding
from financing.services.screening import _queue_screening
from financing.services.transitions import (
    _locked,
    _move,
    _tell,
)
from scf_platform.business_events import business_transaction
from scf_platform.clock import business_today
from scf_platform.models import Role

logger = logging.getLogger(__name__)


def _one_by_one(what: str, items: Iterable, work: Callable[..., bool], key: Callable) -> int:
    """Run `work` on each item in turn; one that fails (a bad program setting, a row another
    tenant broke) is logged with its id and skipped, never stopping the others. Each `work` has
    its own transaction, so a failure rolls back that item only. Returns how many did work."""
    done = 0
    for item in items:
        try:
            done += bool(work(item))
        except Exception:
            logger.exception("%s: request %s failed; skipped", what, key(item))
    return done


def requests_mark_overdue(*, today: date | None = None) -> int:
    """Disbursed requests past maturity become overdue; late interest accrues on every overdue
    request up to today. Safe to run any number of times a day."""
    today = today or business_today()
    due_ids = list(
        FinancingRequest.objects.filter(status=S.DISBURSED, maturity_date__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = _one_by_one("mark overdue", due_ids, _mark_overdue, key=lambda pk: pk)
    overdue_ids = list(
        FinancingRequest.objects.filter(status=S.OVERDUE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _one_by_one(
        "accrue late interest", overdue_ids, lambda pk: _accrue(pk, today), key=lambda pk: pk
    )
    return moved


def _accrue(request_id: int, today: date) -> bool:
    with business_transaction():
        _accrue_late_interest(_locked(request_id), today)
    return True


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

    def remind_if_due(request: FinancingRequest) -> bool:
        if request.maturity_date - timedelta(days=request.program.reminder_days) <= today:
            return _remind(request)
        return False

    return _one_by_one("remind due", candidates, remind_if_due, key=lambda r: r.pk)


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

    def escalate_if_late(request: FinancingRequest) -> bool:
        # timedelta raises OverflowError on an absurd sla_hours: that request alone is skipped.
        if request.queued_at + timedelta(hours=request.program.sla_hours) <= now:
            return _escalate(request, now)
        return False

    return _one_by_one("escalate waiting", waiting, escalate_if_late, key=lambda r: r.pk)


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

    def requeue(item: tuple[int, int]) -> bool:
        _queue_screening(item[0], applicant_id=item[1])
        return True

    return _one_by_one("requeue stale", stale, requeue, key=lambda item: item[0])
