"""The idempotency-key race: twenty clients send the same action with the same `Idempotency-Key`
at once (each thread its own database connection, released together by a barrier). Exactly one
effect, and twenty identical answers.

The other races (the program limit, double financing, double approval) and the worker killed
mid-task are proved in tests/financing/test_guarantees.py.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from financing.models import FinancingRequest, Repayment, RequestEvent
from scf_platform.models import IdempotencyRecord
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice, InvoiceEvent
from tests.conftest import ActingClient
from tests.financing.factories import make_chain, today
from tests.reliability.world import request_in

CALLERS = 20


def platform():
    return scope_activated(Scope.platform())


def all_at_once(send) -> list:
    """`send()` in CALLERS threads released together; the responses, in thread order."""
    barrier = threading.Barrier(CALLERS)
    responses: list = [None] * CALLERS

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            responses[index] = send()
        except Exception as error:  # the test inspects what each caller got
            responses[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a caller never finished"
    return responses


def assert_identical(responses: list, status: int) -> None:
    errors = [r for r in responses if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {r.status_code for r in responses} == {status}, [r.content[:200] for r in responses]
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies), bodies
    # One of them did the work; the others were answered from the record of it.
    assert sum(r.get("Idempotent-Replayed") != "true" for r in responses) == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_uploads_with_one_key_make_one_invoice(quiet_broker):
    with platform():
        chain = make_chain()
        before = Invoice.objects.count(), InvoiceEvent.objects.count()
    body = {
        "number": "RACE-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": today().isoformat(),
        "currency": "CNY",
        "amount": "1234.56",
    }

    def send():
        client = ActingClient(chain.supplier_maker, chain.supplier)
        return client.post("/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    responses = all_at_once(send)
    assert_identical(responses, 201)
    with platform():
        assert Invoice.objects.count() == before[0] + 1
        assert InvoiceEvent.objects.count() == before[1] + 1
        assert IdempotencyRecord.objects.filter(key="k-1").count() == 1
        assert Invoice.objects.get(number="RACE-1").pk == responses[0].json()["id"]


@pytest.mark.django_db(transaction=True)
def test_twenty_repayments_with_one_key_repay_once(quiet_broker):
    with platform():
        chain = make_chain()
        request = request_in(chain, "disbursed")
        events = RequestEvent.objects.filter(request=request).count()
    body = {"amount": "1000.00", "paid_on": today().isoformat()}
    path = f"/api/v1/financing-requests/{request.pk}/repayments/"

    def send():
        client = ActingClient(chain.core_maker, chain.core)
        return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="repay-1")

    responses = all_at_once(send)
    assert_identical(responses, 201)
    with platform():
        assert Repayment.objects.filter(request=request).count() == 1
        request = FinancingRequest.objects.get(pk=request.pk)
        assert request.repaid_amount == Decimal("1000.00")
        assert request.principal_outstanding == request.advance_amount - Decimal("1000.00")
        assert RequestEvent.objects.filter(request=request).count() == events + 1


@pytest.mark.django_db(transaction=True)
def test_twenty_clicks_on_one_portal_repayment_form_repay_once(quiet_broker):
    """The portal's one-time key (a double click, many times over): one repayment, and every
    click is sent to the same page."""
    with platform():
        chain = make_chain()
        request = request_in(chain, "disbursed")
    path = f"/portal/requests/{request.pk}/repay/"
    form = {"amount": "1000.00", "paid_on": today().isoformat(), "once": "click" * 8}

    def send():
        client = Client()
        client.force_login(chain.core_maker)
        return client.post(path, {**form, "confirmed": "1"})

    responses = all_at_once(send)
    errors = [r for r in responses if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {(r.status_code, r["Location"]) for r in responses} == {
        (302, f"/portal/requests/{request.pk}/")
    }
    with platform():
        assert Repayment.objects.filter(request=request).count() == 1
        request = FinancingRequest.objects.get(pk=request.pk)
        assert request.repaid_amount == Decimal("1000.00")
