"""The receivables workflow through its services (screening called in-process)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from financing.models import FinancingRequest, Program, RequestStatus
from financing.products.base import AlreadyFinanced
from financing.services import decisions, drafting, money, periodic, screening
from scf_platform.errors import IllegalTransition, NotPermitted
from scf_platform.models import Role
from suppliers.models import InvoiceStatus
from tests.factories import member
from tests.financing.factories import make_chain, today
from tests.financing.factories import submit_request as submitted

pytestmark = pytest.mark.django_db


def test_the_whole_flow_act_360_with_two_part_repayment():
    chain = make_chain(threshold="1000000.00")
    a = chain.invoice("60000.00", days=90)
    b = chain.invoice("40000.00", days=60)
    request = submitted(chain, [a, b], "90000.00")
    assert request.status == RequestStatus.IN_REVIEW, request.screening
    chain.program.refresh_from_db()
    assert chain.program.utilized == Decimal("90000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    request.refresh_from_db()
    # 90000 x 0.0435 x 90 / 360 = 978.75
    assert (request.days, request.discount_amount, request.net_proceeds) == (
        90,
        Decimal("978.75"),
        Decimal("89021.25"),
    )
    a.refresh_from_db()
    assert a.status == InvoiceStatus.FINANCED
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("50000.00"),
        paid_on=today(),
    )
    chain.program.refresh_from_db()
    assert chain.program.utilized == Decimal("40000.00")
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("40000.00"),
        paid_on=today(),
    )
    request.refresh_from_db()
    chain.program.refresh_from_db()
    a.refresh_from_db()
    assert request.status == RequestStatus.SETTLED
    assert chain.program.utilized == 0
    assert a.status == InvoiceStatus.PAID
    statuses = list(request.events.values_list("to_status", flat=True))
    assert statuses == [
        "draft",
        "submitted",
        "in_review",
        "approved",
        "disbursed",
        "disbursed",
        "settled",
    ]


def test_act_365_quote():
    chain = make_chain(day_count="ACT/365", annual_rate="0.0500")
    invoice = chain.invoice("100000.00", days=73)
    request = submitted(chain, [invoice], "80000.00")
    quote = money.request_quote(request)
    # 80000 x 0.05 x 73 / 365 = 800.00; APR = 800 / 79200 x 365 / 73
    assert quote.discount_amount == Decimal("800.00")
    assert quote.net_proceeds == Decimal("79200.00")
    assert quote.apr == Decimal("0.050505")


def test_screening_rejects_with_every_reason():
    chain = make_chain(credit_limit="50000.00")
    invoice = chain.invoice("100000.00", days=90)
    request = submitted(chain, [invoice], "95000.00", screen=False)
    # The bank shortens the tenor and suspends the program while the request waits: drafting
    # passed, screening finds both.
    Program.objects.filter(pk=chain.program.pk).update(max_tenor_days=30, status="suspended")
    request = screening.financing_request_screen(request_id=request.pk)
    assert request.status == RequestStatus.REJECTED
    failed = {c["code"] for c in request.screening["checks"] if not c["passed"]}
    # Above the advance is no reason: it is screened at the cap (the quote's advance).
    assert failed == {"program_active", "invoice_within_tenor"}
    Program.objects.filter(pk=chain.program.pk).update(max_tenor_days=180, status="active")
    # Rejected: the invoice is free again.
    again = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal("45000.00"),
        invoices=[invoice.pk],
    )
    assert again.status == RequestStatus.DRAFT


def test_limit_exceeded_is_a_screening_reason():
    chain = make_chain(credit_limit="50000.00")
    request = submitted(chain, [chain.invoice("100000.00")], "60000.00")
    assert request.status == RequestStatus.REJECTED
    assert "program_limit" in request.events.last().reason
    assert Program.objects.get(pk=chain.program.pk).utilized == 0


def test_sub_limit():
    chain = make_chain(sub_limit="30000.00")
    request = submitted(chain, [chain.invoice("100000.00")], "40000.00")
    assert request.status == RequestStatus.REJECTED
    assert "sub_limit" in request.events.last().reason
    assert Program.objects.get(pk=chain.program.pk).utilized == 0


def test_an_invoice_in_an_active_request_cannot_be_in_another():
    chain = make_chain()
    invoice = chain.invoice()
    submitted(chain, [invoice], "1000.00")
    with pytest.raises(AlreadyFinanced):
        drafting.financing_request_create(
            applicant=chain.supplier,
            actor=chain.supplier_maker,
            product="receivables",
            program=chain.program,
            requested_amount=Decimal("1000.00"),
            invoices=[invoice.pk],
        )


def test_four_eyes_above_the_threshold():
    chain = make_chain(threshold="50000.00")
    request = submitted(chain, [chain.invoice("100000.00")], "60000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    assert FinancingRequest.objects.get(pk=request.pk).status == RequestStatus.IN_REVIEW
    with pytest.raises(IllegalTransition):
        decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
        )
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker2
    )
    assert FinancingRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED


def test_the_submitter_never_approves():
    chain = make_chain()
    from scf_platform.models import Membership

    Membership.objects.create(user=chain.bank_checker, organization=chain.supplier, role="maker")
    request = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.bank_checker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal("1000.00"),
        invoices=[chain.invoice().pk],
    )
    drafting.financing_request_submit(
        request_id=request.pk, applicant=chain.supplier, actor=chain.bank_checker
    )
    screening.financing_request_screen(request_id=request.pk)
    with pytest.raises(NotPermitted):
        decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
        )


def test_overdue_and_late_interest_rounded_once():
    chain = make_chain(threshold="1000000.00")
    invoice = chain.invoice("10000.00", days=10)
    request = submitted(chain, [invoice], "9000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    maturity = FinancingRequest.objects.get(pk=request.pk).maturity_date
    # Three daily runs after maturity: exact accrual, no per-day rounding.
    for offset in (1, 2, 3):
        periodic.requests_mark_overdue(today=maturity + timedelta(days=offset))
    request.refresh_from_db()
    assert request.status == RequestStatus.OVERDUE
    # 9000 x 0.0435 x 3 / 360 = 3.2625 → 3.26
    assert money.late_interest_due(request) == Decimal("3.26")
    assert money.amount_outstanding(request) == Decimal("9003.26")


def test_repaying_more_than_outstanding_is_refused_and_writes_nothing():
    chain = make_chain()
    request = submitted(chain, [chain.invoice("10000.00")], "9000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    with pytest.raises(ValidationError):
        money.financing_request_repay(
            request_id=request.pk,
            payer=chain.core,
            actor=chain.core_maker,
            amount=Decimal("9000.01"),
            paid_on=today(),
        )
    assert not request.repayments.exists()


@pytest.mark.parametrize(
    "action",
    [
        lambda chain, request, actor: decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=actor
        ),
        lambda chain, request, actor: decisions.financing_request_reject(
            request_id=request.pk, bank=chain.bank, actor=actor, reason="No."
        ),
    ],
    ids=["approve", "reject"],
)
def test_the_service_itself_lets_only_the_banks_checkers_decide(action):
    """Whoever calls it (a portal page, the API, a script), the service asks the role policy:
    the bank's admin, maker and viewer are refused and nothing is written."""
    chain = make_chain()
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    for actor in (chain.bank_admin, chain.bank_maker, member(chain.bank, Role.VIEWER)):
        with pytest.raises(NotPermitted):
            action(chain, request, actor)
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW and not request.approvals.exists()
    action(chain, request, chain.bank_checker)
    request.refresh_from_db()
    assert request.status != RequestStatus.IN_REVIEW
