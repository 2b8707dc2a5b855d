"""Receivables as a product of the lifecycle: the advance cap (defect 7) and the invoices'
statuses, which financing asks suppliers to change (defect 3)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from financing.models import RequestStatus
from financing.services import decisions, drafting, money
from ledger.models import LedgerEntry
from suppliers.models import InvoiceEvent, InvoiceStatus
from tests.financing.factories import make_chain, today
from tests.financing.factories import submit_request as submitted
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_request_above_its_advance_is_screened_and_funded_at_the_cap():
    chain = make_chain(advance_rate="0.80")
    invoice = chain.invoice("100000.00", days=90)
    request = submitted(chain, [invoice], "95000.00")
    # The quote says 80000.00 (min(95000, 100000 x 0.80)); screening agrees with it.
    assert request.screening["quote"]["advance_amount"] == "80000.00"
    assert request.status == RequestStatus.IN_REVIEW, request.screening["checks"]
    assert request.advance_amount == Decimal("80000.00")
    assert request.reserved_amount == Decimal("80000.00")
    chain.program.refresh_from_db()
    assert chain.program.utilized == Decimal("80000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    request.refresh_from_db()
    # 80000 x 0.0435 x 90 / 360 = 870.00
    assert (request.advance_amount, request.discount_amount, request.net_proceeds) == (
        Decimal("80000.00"),
        Decimal("870.00"),
        Decimal("79130.00"),
    )
    assert request.principal_outstanding == Decimal("80000.00")


def _trail(invoice, to_status):
    events = InvoiceEvent.objects.filter(invoice=invoice, to_status=to_status)
    leaves = LedgerEntry.objects.filter(
        subject=f"invoice:{invoice.pk}", kind=f"invoice.{to_status}"
    )
    return events.count(), leaves.count()


def test_disbursement_and_settlement_write_the_invoices_events_and_leaves():
    chain = make_chain()
    a = chain.invoice("60000.00", days=90)
    b = chain.invoice("40000.00", days=60)
    request = submitted(chain, [a, b], "90000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    for invoice in (a, b):
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.FINANCED
        assert _trail(invoice, InvoiceStatus.FINANCED) == (1, 1)
    event = InvoiceEvent.objects.get(invoice=a, to_status=InvoiceStatus.FINANCED)
    assert (event.from_status, event.actor, event.actor_organization) == (
        InvoiceStatus.CONFIRMED,
        chain.bank_maker,
        chain.bank,
    )
    assert event.details == {"reference": f"request:{request.pk}"}
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("90000.00"),
        paid_on=today(),
    )
    for invoice in (a, b):
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        assert _trail(invoice, InvoiceStatus.PAID) == (1, 1)


def test_a_disbursement_rolled_back_leaves_neither_event_nor_leaf():
    chain = make_chain()
    invoice = chain.invoice("100000.00", days=90)
    request = submitted(chain, [invoice], "90000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )

    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        money.financing_request_disburse(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
        )
        # Inside the transaction, both are there, with the status.
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.FINANCED
        assert _trail(invoice, InvoiceStatus.FINANCED) == (1, 1)
        raise Undone
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CONFIRMED
    assert _trail(invoice, InvoiceStatus.FINANCED) == (0, 0)


def test_one_financeable_rule_for_the_apply_page_drafting_and_screening():
    """An invoice falling due after the program's tenor: the apply page does not offer it, a
    draft naming it is refused with the rule's words, and screening records the same rule."""
    chain = make_chain(max_tenor_days=60)
    within = chain.invoice("1000.00", days=30, number="WITHIN-1")
    beyond = chain.invoice("1000.00", days=90, number="BEYOND-1")
    page = client_for(chain.supplier_maker).get("/portal/apply/").content.decode()
    assert f'name="invoices" value="{within.pk}"' in page
    assert "BEYOND-1" not in page
    with pytest.raises(ValidationError) as refused:
        drafting.financing_request_create(
            applicant=chain.supplier,
            actor=chain.supplier_maker,
            product="receivables",
            program=chain.program,
            requested_amount=Decimal("900.00"),
            invoices=[within.pk, beyond.pk],
        )
    assert refused.value.message_dict == {
        "invoices": ["Invoice BEYOND-1 falls due after the program's 60 days."]
    }
    request = submitted(chain, [within], "900.00")
    codes = [c["code"] for c in request.screening["checks"]]
    assert {
        "invoice_confirmed",
        "invoice_of_core_enterprise",
        "invoice_in_program_currency",
        "invoice_not_past_due",
        "invoice_within_tenor",
    } <= set(codes)


def test_the_apply_page_previews_the_quote_screening_gives():
    chain = make_chain(advance_rate="0.80")
    invoice = chain.invoice("100000.00", days=90)
    params = {
        "program": chain.program.pk,
        "invoices": invoice.pk,
        "requested_amount": "95000.00",
        "recalculate": "1",
    }
    page = client_for(chain.supplier_maker).get("/portal/apply/", params).content.decode()
    assert "80,000.00" in page and "870.00" in page
    request = submitted(chain, [invoice], "95000.00")
    assert request.screening["quote"]["advance_amount"] == "80000.00"
    assert request.screening["quote"]["discount_amount"] == "870.00"
