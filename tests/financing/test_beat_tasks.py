"""The periodic runs: SLA escalation, due-date reminders, overdue marking with late interest."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from financing import tasks
from financing.models import FinancingRequest, RequestStatus
from financing.services import decisions, drafting, money, screening
from scf_platform.celery import app
from scf_platform.clock import business_day
from scf_platform.models import Notification
from tests.financing.factories import make_chain, today

pytestmark = pytest.mark.django_db
PLATFORM = {"scope": {"system": True}}


def in_review(chain, amount="9000.00", days=30):
    """A request of `amount`, the whole advance on an invoice of amount / 0.90."""
    request = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal(amount),
        invoices=[chain.invoice(str(Decimal(amount) / Decimal("0.90")), days=days).pk],
    )
    drafting.financing_request_submit(
        request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    request = screening.financing_request_screen(request_id=request.pk)
    assert request.status == RequestStatus.IN_REVIEW, request.screening
    return request


def disbursed(chain, amount="9000.00", days=30):
    request = in_review(chain, amount, days)
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    return FinancingRequest.objects.get(pk=request.pk)


def test_the_beat_schedule_names_registered_tasks():
    schedule = app.conf.beat_schedule
    for entry in ("financing-daily-run", "financing-escalate-waiting"):
        assert schedule[entry]["task"] in app.tasks
        assert schedule[entry]["kwargs"] == PLATFORM


def test_a_request_past_its_sla_is_escalated_to_the_bank_admins_once():
    chain = make_chain()
    late, fresh = in_review(chain), in_review(chain)
    FinancingRequest.objects.filter(pk=late.pk).update(
        queued_at=timezone.now() - timedelta(hours=chain.program.sla_hours, minutes=1)
    )
    assert tasks.requests_escalate.apply(kwargs=PLATFORM).get() == 1
    assert tasks.requests_escalate.apply(kwargs=PLATFORM).get() == 0
    notices = Notification.objects.filter(organization=chain.bank, roles=["admin"])
    assert [n.link for n in notices] == [f"/portal/requests/{late.pk}/"]
    assert "SLA 24 hours" in notices[0].subject
    assert FinancingRequest.objects.get(pk=fresh.pk).escalated_at is None


def test_the_core_enterprise_is_reminded_before_the_due_date_once():
    chain = make_chain()
    soon = disbursed(chain, days=chain.program.reminder_days)
    later = disbursed(chain, days=chain.program.reminder_days + 1)
    result = tasks.requests_daily_run.apply(kwargs=PLATFORM).get()
    assert result == {"overdue": 0, "reminded": 1}
    assert tasks.requests_daily_run.apply(kwargs=PLATFORM).get()["reminded"] == 0
    reminders = Notification.objects.filter(organization=chain.core, subject__contains="falls due")
    assert [n.link for n in reminders] == [f"/portal/requests/{soon.pk}/"]
    assert FinancingRequest.objects.get(pk=later.pk).reminded_at is None


def test_the_daily_run_marks_overdue_and_accrues_late_interest_once_per_day():
    chain = make_chain()
    request = disbursed(chain, amount="36000.00", days=10)
    maturity = request.maturity_date
    with business_day(maturity + timedelta(days=10)):
        assert tasks.requests_daily_run.apply(kwargs=PLATFORM).get()["overdue"] == 1
        tasks.requests_daily_run.apply(kwargs=PLATFORM).get()  # a second run the same day
    request.refresh_from_db()
    assert request.status == RequestStatus.OVERDUE
    # 36000 x 0.0435 x 10 / 360 = 43.50, accrued once however often the run repeats.
    assert money.late_interest_due(request) == Decimal("43.50")
    assert (
        Notification.objects.filter(organization=chain.core, subject__contains="overdue").count()
        == 1
    )


def test_the_periodic_tasks_refuse_to_run_without_a_scope():
    from scf_platform.tenancy import ScopeRequired

    with pytest.raises(ScopeRequired):
        tasks.requests_daily_run.apply().get()
    assert today()  # the clock is untouched by the refusal
