"""The "are you sure?" pages ask only about input the service accepts: impossible input goes back
to the entry form, the error next to its field and the input kept, before any question."""

from datetime import timedelta

import pytest

from financing.models import Program, ProgramParticipant, Repayment, RequestStatus
from financing.services import drafting
from suppliers.models import Invoice, InvoiceStatus
from tests.financing.factories import today
from tests.portal.conftest import approved, client_for, disbursed, h1, submitted, text

pytestmark = pytest.mark.django_db


def errors_next_to(response, field: str) -> str:
    body = response.content.decode()
    assert f'id="id_{field}-error"' in body, f"no error next to {field}"
    return body


def test_an_invoice_due_before_its_issue_is_refused_before_the_question(chain):
    data = {
        "number": "BACKWARDS-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() - timedelta(days=30)).isoformat(),
        "currency": "CNY",
        "amount": "500.00",
    }
    response = client_for(chain.supplier_maker).post("/portal/invoices/new/", data)
    assert h1(response) != "Add this invoice?"
    body = errors_next_to(response, "due_date")
    assert "The due date is before the issue date" in body and 'value="BACKWARDS-1"' in body
    assert not Invoice.objects.filter(number="BACKWARDS-1").exists()


def test_an_invoice_number_already_uploaded_is_refused_before_the_question(chain):
    chain.invoice("10.00", number="SEEN-1", confirm=False)
    data = {
        "number": "SEEN-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=30)).isoformat(),
        "currency": "CNY",
        "amount": "500.00",
    }
    response = client_for(chain.supplier_maker).post("/portal/invoices/new/", data)
    assert h1(response) != "Add this invoice?"
    assert "You already uploaded an invoice numbered" in errors_next_to(response, "number")


def test_an_overpayment_is_refused_before_the_question(chain):
    request = disbursed(chain, "90000.00")
    response = client_for(chain.core_maker).post(
        f"/portal/requests/{request.pk}/repay/",
        {"amount": "99999999.00", "paid_on": today().isoformat()},
    )
    page = text(response)
    assert "will remain outstanding" not in page and "Record repayment" not in page
    body = errors_next_to(response, "amount")
    assert "Only 90000.00 CNY is outstanding" in body and 'value="99999999.00"' in body
    assert not Repayment.objects.exists()


def test_a_repayment_dated_in_the_future_is_refused_before_the_question(chain):
    request = disbursed(chain, "90000.00")
    response = client_for(chain.core_maker).post(
        f"/portal/requests/{request.pk}/repay/",
        {"amount": "1000.00", "paid_on": (today() + timedelta(days=3)).isoformat()},
    )
    assert "will remain outstanding" not in text(response)
    assert "cannot be dated in the future" in errors_next_to(response, "paid_on")


def test_the_question_names_what_remains_as_the_service_counts_it(chain):
    request = disbursed(chain, "90000.00")
    response = client_for(chain.core_maker).post(
        f"/portal/requests/{request.pk}/repay/",
        {"amount": "30000.00", "paid_on": today().isoformat()},
    )
    assert "60,000.00 CNY will remain outstanding" in text(response)
    assert not Repayment.objects.exists()
    request.refresh_from_db()
    assert request.principal_outstanding == 90000


def test_a_value_date_years_in_the_past_is_refused_before_the_question(chain):
    request = approved(chain)
    response = client_for(chain.bank_maker).post(
        f"/portal/requests/{request.pk}/disburse/",
        {"value_date": (today() - timedelta(days=3 * 365)).isoformat()},
    )
    assert h1(response) != f"Disburse request {request.pk}?"
    assert "cannot be before the request was screened" in errors_next_to(response, "value_date")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_a_program_the_service_refuses_is_refused_before_the_question(chain):
    form = {
        "name": "Impossible Line",
        "core_enterprise": chain.core.credit_code,
        "currency": "CNY",
        "credit_limit": "5000000.00",
        "advance_rate": "1.5",
        "annual_rate": "0.04",
        "day_count": "ACT/365",
        "max_tenor_days": "120",
        "dual_approval_threshold": "300000.00",
        "products": ["receivables"],
        "sla_hours": "12",
    }
    response = client_for(chain.bank_checker).post("/portal/programs/new/", form)
    assert h1(response) != "Create program Impossible Line?"
    assert 'value="Impossible Line"' in errors_next_to(response, "advance_rate")
    assert not Program.objects.filter(name="Impossible Line").exists()


def test_onboarding_a_participant_twice_is_refused_before_the_question(chain):
    response = client_for(chain.core_maker).post(
        "/portal/participants/new/",
        {
            "program": chain.program.pk,
            "organization": chain.supplier.credit_code,
            "role": "supplier",
            "limit": "",
        },
    )
    assert not h1(response).endswith("?")
    assert "Already a participant" in errors_next_to(response, "organization")
    assert ProgramParticipant.objects.filter(organization=chain.supplier).count() == 1


def test_withdrawing_a_withdrawn_request_is_refused_before_the_question(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    drafting.financing_request_withdraw(
        request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    response = client_for(chain.supplier_maker).get(
        f"/portal/requests/{request.pk}/withdraw/", follow=True
    )
    assert response.redirect_chain[-1][0] == f"/portal/requests/{request.pk}/"
    assert h1(response) != f"Withdraw request {request.pk}?"
    assert "A request that is Withdrawn cannot become Withdrawn." in text(response)


def test_confirming_an_invoice_already_confirmed_is_refused_before_the_question(chain):
    invoice = chain.invoice("300.00", number="DONE-1")
    assert invoice.status == InvoiceStatus.CONFIRMED
    response = client_for(chain.core_checker).get(
        "/portal/payables/confirm/", {"invoice": invoice.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/portal/payables/"
    page = text(response)
    assert "Confirm 1 payable?" not in page
    assert "DONE-1: The invoice is Confirmed; only an uploaded invoice can be" in page
