"""Issue 12, items 4 and 8: a program's terms have the same bounds on every surface (service,
API, portal form, model), one bad program never stops a periodic job for every other bank, and a
quote that pays nothing is neither screened in nor disbursed."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from financing import tasks
from financing.models import MAX_SLA_HOURS, MAX_TENOR_DAYS, FinancingRequest, Program
from financing.models import RequestStatus as S
from financing.services import decisions, drafting, money, screening
from financing.services.programs import program_create
from scf_platform.errors import IllegalTransition
from scf_platform.models import Notification
from tests.financing.factories import make_chain
from tests.financing.test_products_registry import program_body
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db
PLATFORM = {"scope": {"system": True}}


@pytest.mark.parametrize(
    "overrides",
    [
        {"sla_hours": 100_000_000, "max_tenor_days": 10**9},
        # Accepted before (the serializer's old ceilings were 3,650 days and 10,000 hours).
        {"sla_hours": MAX_SLA_HOURS + 1, "max_tenor_days": MAX_TENOR_DAYS + 1},
    ],
)
def test_the_api_refuses_huge_tenors_and_slas_with_400(api_as, overrides):
    chain = make_chain()
    body = {**program_body(chain, ["receivables"]), **overrides}
    response = api_as(chain.bank_admin, chain.bank).post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400, response.content
    assert {"sla_hours", "max_tenor_days"} <= set(response.json())
    assert not Program.objects.filter(name="Line").exists()


@pytest.mark.parametrize("field", ["annual_rate", "late_rate"])
def test_the_api_refuses_a_usurious_rate(api_as, field):
    chain = make_chain()
    body = {**program_body(chain, ["receivables"]), field: "0.999999"}
    response = api_as(chain.bank_admin, chain.bank).post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Program.objects.filter(name="Line").exists()


def test_the_portal_form_refuses_a_huge_sla_and_tenor():
    chain = make_chain()
    client = client_for(chain.bank_admin)
    form = {
        "name": "Spring Line",
        "core_enterprise": chain.core.credit_code,
        "currency": "CNY",
        "credit_limit": "5000000.00",
        "advance_rate": "0.85",
        "annual_rate": "0.04",
        "day_count": "ACT/365",
        "max_tenor_days": str(MAX_TENOR_DAYS + 1),
        "dual_approval_threshold": "300000.00",
        "products": ["receivables"],
        "sla_hours": "100000000",
    }
    response = client.post("/portal/programs/new/", {**form, "confirmed": "1"})
    page = response.content.decode()
    assert f"less than or equal to {MAX_SLA_HOURS}" in page
    assert f"less than or equal to {MAX_TENOR_DAYS}" in page
    assert not Program.objects.filter(name="Spring Line").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sla_hours": 100_000_000}, "sla_hours"),
        ({"max_tenor_days": MAX_TENOR_DAYS + 1}, "max_tenor_days"),
        ({"annual_rate": Decimal("0.36")}, "annual_rate"),
        ({"late_rate": Decimal("0.5")}, "late_rate"),
        ({"reminder_days": 10**6}, "reminder_days"),
    ],
)
def test_the_service_and_the_model_share_the_bounds(overrides, field):
    chain = make_chain()
    body = program_body(chain, ["receivables"])
    terms = {
        **body,
        "core_enterprise": chain.core,
        "credit_limit": Decimal(body["credit_limit"]),
        "advance_rate": Decimal(body["advance_rate"]),
        "annual_rate": Decimal(body["annual_rate"]),
        "dual_approval_threshold": Decimal(0),
        **overrides,
    }
    with pytest.raises(ValidationError) as refused:
        program_create(bank=chain.bank, actor=chain.bank_admin, **terms)
    assert field in refused.value.message_dict
    assert not Program.objects.filter(name="Line").exists()
    # The model's validators say the same of a row set to the same value.
    program = Program.objects.get(pk=chain.program.pk)
    setattr(program, field, overrides[field])
    with pytest.raises(ValidationError) as invalid:
        program.full_clean()
    assert field in invalid.value.message_dict


def in_review(chain, amount="9000.00", days=30):
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
    return screening.financing_request_screen(request_id=request.pk)


def test_one_bank_absurd_sla_does_not_stop_the_escalation_of_another(caplog):
    broken, sound = make_chain(prefix="Broken "), make_chain(prefix="Sound ")
    stuck, late = in_review(broken), in_review(sound)
    assert stuck.status == late.status == S.IN_REVIEW
    long_ago = timezone.now() - timedelta(hours=25)
    FinancingRequest.objects.filter(pk__in=[stuck.pk, late.pk]).update(queued_at=long_ago)
    # Written past every surface's bounds, as a row from before them could be.
    Program.objects.filter(pk=broken.program.pk).update(sla_hours=100_000_000)
    with caplog.at_level(logging.ERROR, logger="financing.services.periodic"):
        assert tasks.requests_escalate.apply(kwargs=PLATFORM).get() == 1
    assert FinancingRequest.objects.get(pk=late.pk).escalated_at is not None
    assert FinancingRequest.objects.get(pk=stuck.pk).escalated_at is None
    notices = Notification.objects.filter(organization=sound.bank, roles=["admin"])
    assert [n.link for n in notices] == [f"/portal/requests/{late.pk}/"]
    failed = [r for r in caplog.records if r.name == "financing.services.periodic"]
    assert len(failed) == 1 and f"request {stuck.pk} failed" in failed[0].getMessage()
    assert failed[0].exc_info[0] is OverflowError


def usurious(chain):
    """The program of `chain` with terms from before the bounds: 99.9999% a year, ten years."""
    Program.objects.filter(pk=chain.program.pk).update(
        annual_rate=Decimal("0.999999"), max_tenor_days=3650
    )
    chain.program.refresh_from_db()


def test_screening_rejects_a_quote_without_net_proceeds():
    chain = make_chain()
    usurious(chain)
    request = in_review(chain, days=3000)
    assert request.status == S.REJECTED, request.screening
    assert Decimal(request.screening["quote"]["net_proceeds"]) <= 0
    failed = [c["code"] for c in request.screening["checks"] if not c["passed"]]
    assert failed == ["net_proceeds_positive"]
    chain.program.refresh_from_db()
    assert chain.program.utilized == 0


def test_disbursement_refuses_a_quote_without_net_proceeds():
    chain = make_chain()
    Program.objects.filter(pk=chain.program.pk).update(max_tenor_days=3650)
    chain.program.refresh_from_db()
    request = in_review(chain, days=3000)
    assert request.status == S.IN_REVIEW, request.screening
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    usurious(chain)  # the rate changed after the approval
    with pytest.raises(IllegalTransition):
        money.financing_request_disburse(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
        )
    request = FinancingRequest.objects.get(pk=request.pk)
    assert request.status == S.APPROVED and request.net_proceeds is None


def test_one_bank_absurd_reminder_days_do_not_stop_the_reminders_of_another(caplog):
    broken, sound = make_chain(prefix="Broken "), make_chain(prefix="Sound ")
    stuck = in_review(broken, days=3)
    due = in_review(sound, days=3)
    for chain, request in ((broken, stuck), (sound, due)):
        decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
        )
        money.financing_request_disburse(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
        )
    # timedelta(days=100,000,000) is fine; a date that many days back is not.
    Program.objects.filter(pk=broken.program.pk).update(reminder_days=100_000_000)
    with caplog.at_level(logging.ERROR, logger="financing.services.periodic"):
        result = tasks.requests_daily_run.apply(kwargs=PLATFORM).get()
    assert result == {"overdue": 0, "reminded": 1}
    assert FinancingRequest.objects.get(pk=due.pk).reminded_at is not None
    assert FinancingRequest.objects.get(pk=stuck.pk).reminded_at is None
    failed = [r for r in caplog.records if r.name == "financing.services.periodic"]
    assert len(failed) == 1 and f"request {stuck.pk} failed" in failed[0].getMessage()
