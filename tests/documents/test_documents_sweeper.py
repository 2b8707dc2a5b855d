"""Documents whose rendering task was lost are found in the database and queued again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from documents.selectors import documents_missing
from documents.services import document_issue
from documents.tasks import documents_issue_missing
from financing.services import decisions, money
from tests.financing.factories import make_chain, submit_request, today

pytestmark = pytest.mark.django_db
PLATFORM = {"system": True}


def settled_request(chain):
    request = submit_request(chain, [chain.invoice("10000.00")], "9000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("9000.00"),
        paid_on=today(),
    )
    return request


def test_every_owed_document_that_was_never_issued_is_found():
    # In a test the commit never happens, so no rendering was queued: all four are owed.
    chain = make_chain()
    request = settled_request(chain)
    invoice_id = request.receivable_holds.get().invoice_id
    missing = set(documents_missing(before=timezone.now()))
    assert missing == {
        ("confirmation_letter", f"invoice:{invoice_id}"),
        ("assignment_notice", f"request:{request.pk}"),
        ("financing_agreement", f"request:{request.pk}"),
        ("repayment_statement", f"request:{request.pk}"),
    }
    document_issue(kind="financing_agreement", subject=f"request:{request.pk}")
    after = set(documents_missing(before=timezone.now()))
    assert after == missing - {("financing_agreement", f"request:{request.pk}")}
    # Recent events are left to their own task for a while.
    assert documents_missing(before=timezone.now() - timedelta(minutes=10)) == []


def test_the_beat_task_queues_each_missing_document_after_commit(
    django_capture_on_commit_callbacks,
):
    chain = make_chain()
    chain.invoice("1000.00")
    chain.invoice("2000.00")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = documents_issue_missing.apply(
            kwargs={"scope": PLATFORM, "older_than_seconds": 0}
        ).get()
    assert queued == 2
    assert len(callbacks) == 2
