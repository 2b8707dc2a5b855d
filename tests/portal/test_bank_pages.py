"""The bank portal: the approval queue, the request page with four eyes, approve / reject,
disburse, programs, the portfolio."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from financing.models import FinancingRequest, Program, RequestStatus
from scf_platform.models import Membership, Notification, Role
from tests.conftest import ActingClient
from tests.factories import member
from tests.financing.factories import today
from tests.portal.conftest import approved, client_for, disbursed, h1, submitted, text

pytestmark = pytest.mark.django_db


def large(chain):
    """A request above the program's 500,000 threshold: two checkers must approve."""
    return submitted(chain, [chain.invoice("1000000.00")], "800000.00")


def test_the_queue_is_oldest_first_with_waiting_time_and_sla_breaches(chain):
    newer = submitted(chain, [chain.invoice("10000.00")], "9000.00")
    older = submitted(chain, [chain.invoice("20000.00")], "18000.00")
    FinancingRequest.objects.filter(pk=older.pk).update(
        queued_at=timezone.now() - timedelta(hours=30)
    )
    response = client_for(chain.bank_checker).get("/portal/queue/")
    body = response.content.decode()
    assert body.index(f">#{older.pk}<") < body.index(f">#{newer.pk}<")
    page = text(response)
    assert "1 past its SLA" in page and "SLA breached (24 h)" in page
    assert "1 day, 6 hours" in page  # how long the oldest has waited
    only = text(client_for(chain.bank_checker).get("/portal/queue/", {"breached": "on"}))
    assert f"#{older.pk}" in only and f"#{newer.pk}" not in only


def test_the_request_page_shows_parties_invoices_quote_screening_and_history(chain):
    invoice = chain.invoice("100000.00", number="BANK-VIEW-1")
    request = submitted(chain, [invoice], "90000.00")
    page = text(client_for(chain.bank_checker).get(f"/portal/requests/{request.pk}/"))
    for expected in (
        "Applicant Supplier",
        "Core enterprise Core",
        "Bank Bank",
        "BANK-VIEW-1",
        "Confirmed by Core on",
        "Net proceeds 89,021.25 CNY",
        "Passed · The program's available limit covers the advance",
        "Approvals: 0 of 1",
        "Submitted",
        "Approve",
        "Reject",
    ):
        assert expected in page, expected


def test_four_eyes_first_approval_recorded_second_checker_approves(chain):
    request = large(chain)
    first = client_for(chain.bank_checker)
    page = text(first.get(f"/portal/requests/{request.pk}/approve/"))
    assert "Approvals: 0 of 2" in page and "Give the first approval" in page
    response = first.post(
        f"/portal/requests/{request.pk}/approve/", {"comment": "Fine by me"}, follow=True
    )
    page = text(response)
    assert "another checker must approve" in page
    assert f"First approval: {chain.bank_checker.username}" in page and "Fine by me" in page
    assert "Still needed: 1 approval" in page
    assert "You approved this request already" in page
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW
    # The same checker again: refused, still in review.
    response = first.post(f"/portal/requests/{request.pk}/approve/", {}, follow=True)
    assert "another checker must approve it" in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW
    second = client_for(chain.bank_checker2)
    response = second.post(f"/portal/requests/{request.pk}/approve/", {}, follow=True)
    assert f"Request {request.pk} is approved." in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert "Approval recorded (1 of 2)" in text(response)


def test_the_preparer_cannot_approve(chain):
    # One person works for the supplier (who submits) and for the bank (as a checker).
    both = chain.supplier_maker
    Membership.objects.create(user=both, organization=chain.bank, role=Role.CHECKER)
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    client = client_for(both)
    client.post("/portal/choose/", {"organization": chain.bank.pk})
    page = text(client.get(f"/portal/requests/{request.pk}/"))
    assert "You prepared or submitted this request" in page
    assert "Give the first approval" not in page
    response = client.post(f"/portal/requests/{request.pk}/approve/", {})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW


def test_makers_and_viewers_do_not_decide(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    for user in (chain.bank_maker, member(chain.bank, Role.VIEWER)):
        client = client_for(user)
        assert client.post(f"/portal/requests/{request.pk}/approve/", {}).status_code == 403
        assert (
            client.post(f"/portal/requests/{request.pk}/reject/", {"reason": "x"}).status_code
            == 403
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW


def test_a_bank_admin_decides_on_neither_surface(chain):
    """Decisions are the checkers' (the four-eyes rule counts checkers): the bank's admin is
    shown no Approve or Reject and is refused by the portal as by the API."""
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    portal = client_for(chain.bank_admin)
    page = portal.get(f"/portal/requests/{request.pk}/").content.decode()
    assert f"/portal/requests/{request.pk}/approve/" not in page
    assert f"/portal/requests/{request.pk}/reject/" not in page
    for action, data in (("approve", {"comment": "ok"}), ("reject", {"reason": "No."})):
        url = f"/portal/requests/{request.pk}/{action}/"
        assert portal.get(url).status_code == 403
        assert portal.post(url, data).status_code == 403
        api = ActingClient(chain.bank_admin, chain.bank)
        answer = api.post(f"/api/v1/financing-requests/{request.pk}/{action}/", data)
        assert answer.status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW
    assert not request.approvals.exists()
    # The bank's checker, on the very same request, may.
    page = client_for(chain.bank_checker).get(f"/portal/requests/{request.pk}/")
    assert f"/portal/requests/{request.pk}/approve/" in page.content.decode()


def test_rejecting_needs_a_reason_and_tells_the_applicant(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    client = client_for(chain.bank_checker)
    url = f"/portal/requests/{request.pk}/reject/"
    assert h1(client.get(url)) == f"Reject request {request.pk}?"
    response = client.post(url, {"reason": "  "})
    assert 'id="id_reason-error"' in response.content.decode()
    response = client.post(url, {"reason": "Concentration too high"}, follow=True)
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert f"Request {request.pk} was rejected." in text(response)
    assert Notification.objects.filter(
        organization=chain.supplier, body="Concentration too high"
    ).exists()


def test_disbursing_shows_the_quote_for_the_value_date_then_fixes_it(chain):
    request = approved(chain, "90000.00")
    client = client_for(chain.bank_maker)
    url = f"/portal/requests/{request.pk}/disburse/"
    page = client.get(url).content.decode()
    assert f'value="{today().isoformat()}"' in page
    response = client.post(url, {"value_date": today().isoformat()})
    assert h1(response) == f"Disburse request {request.pk}?"
    assert "Net proceeds 89,021.25 CNY" in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    response = client.post(url, {"value_date": today().isoformat(), "confirmed": "1"}, follow=True)
    request.refresh_from_db()
    assert request.status == RequestStatus.DISBURSED
    assert request.net_proceeds == Decimal("89021.25")
    assert f"89,021.25 CNY was disbursed on request {request.pk}." in text(response)
    assert "Fixed at disbursement." in text(response)


def test_a_future_value_date_is_refused_next_to_the_field(chain):
    request = approved(chain)
    future = (today() + timedelta(days=3)).isoformat()
    response = client_for(chain.bank_maker).post(
        f"/portal/requests/{request.pk}/disburse/", {"value_date": future, "confirmed": "1"}
    )
    body = response.content.decode()
    assert 'id="id_value_date-error"' in body and "cannot be in the future" in body
    assert f'value="{future}"' in body
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_a_viewer_cannot_disburse(chain):
    request = approved(chain)
    response = client_for(member(chain.bank, Role.VIEWER)).post(
        f"/portal/requests/{request.pk}/disburse/",
        {"value_date": today().isoformat(), "confirmed": "1"},
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_programs_show_limit_utilized_and_available(chain, other_chain):
    submitted(chain, [chain.invoice("100000.00")], "90000.00")
    page = text(client_for(chain.bank_checker).get("/portal/programs/"))
    assert "10,000,000.00 CNY 90,000.00 9,910,000.00" in page
    assert "Other Program" not in page
    page = text(client_for(chain.bank_checker).get(f"/portal/programs/{chain.program.pk}/"))
    assert "Supplier" in page and "Advance rate 90.00%" in page


def test_creating_a_program_asks_first_and_keeps_errors_next_to_fields(chain):
    client = client_for(chain.bank_checker)
    form = {
        "name": "Spring Line",
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
    response = client.post("/portal/programs/new/", {**form, "confirmed": "1"})
    body = response.content.decode()
    assert 'id="id_advance_rate-error"' in body and 'value="Spring Line"' in body
    assert not Program.objects.filter(name="Spring Line").exists()
    form["advance_rate"] = "0.85"
    response = client.post("/portal/programs/new/", form)
    assert h1(response) == "Create program Spring Line?"
    assert "85.00%" in text(response)
    response = client.post("/portal/programs/new/", {**form, "confirmed": "1"}, follow=True)
    program = Program.objects.get(name="Spring Line")
    assert program.bank == chain.bank and program.core_enterprise == chain.core
    assert program.day_count == "ACT/365" and program.sla_hours == 12
    assert "Program Spring Line was created." in text(response)


def test_an_unknown_credit_code_is_an_error_next_to_the_core_enterprise(chain):
    response = client_for(chain.bank_checker).post(
        "/portal/programs/new/", {"name": "X", "core_enterprise": "913100000000000000"}
    )
    assert 'id="id_core_enterprise-error"' in response.content.decode()


def test_only_a_bank_s_checkers_create_programs(chain):
    assert client_for(chain.bank_maker).get("/portal/programs/new/").status_code == 403
    assert client_for(chain.core_checker).get("/portal/programs/new/").status_code == 404


def test_the_portfolio_draws_its_charts(chain):
    disbursed(chain, "90000.00")
    submitted(chain, [chain.invoice("50000.00", days=20)], "40000.00")
    overdue = disbursed(chain, "9000.00")
    FinancingRequest.objects.filter(pk=overdue.pk).update(status=RequestStatus.OVERDUE)
    response = client_for(chain.bank_checker).get("/portal/portfolio/")
    body = response.content.decode()
    assert body.count('<svg class="bar"') >= 5
    page = text(response)
    assert "Utilization per program" in page and "Program" in page
    assert "Disbursed (1) 90,000.00" in page and "In review (1) 40,000.00" in page
    assert "In 61 to 90 days 90,000.00 CNY" in page
    assert "Overdue 9,000.00 CNY" in page
    # The bar of the program: 139,000 of 10,000,000 utilized.
    assert 'width="1.4"' in body
