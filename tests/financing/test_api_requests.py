"""Financing requests over the API: quotes against hand-computed values, four-eyes approval,
the preparer who never approves, Idempotency-Key replays, the bank's approval queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from financing.models import Approval, FinancingRequest, Repayment, RequestEvent, RequestStatus
from financing.services import screening
from scf_platform.models import IdempotencyRecord, Membership, Role
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain, today

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/financing-requests/"


def draft(api_as, chain, invoices, amount, *, user=None):
    response = api_as(user or chain.supplier_maker, chain.supplier).post(
        REQUESTS,
        {
            "product": "receivables",
            "program": chain.program.pk,
            "requested_amount": amount,
            "invoices": [invoice.pk for invoice in invoices],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def in_review(api_as, chain, invoices, amount, *, user=None):
    """Drafted and submitted through the API, screened in-process (the worker's job; its own
    test runs the real worker)."""
    request_id = draft(api_as, chain, invoices, amount, user=user)["id"]
    submitted = api_as(user or chain.supplier_maker, chain.supplier).post(
        f"{REQUESTS}{request_id}/submit/"
    )
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    screened = screening.financing_request_screen(request_id=request_id)
    assert screened.status == RequestStatus.IN_REVIEW, screened.screening
    return request_id


def test_the_quote_of_a_draft_act_360(api_as):
    chain = make_chain(day_count="ACT/360", annual_rate="0.0435", advance_rate="0.90")
    invoices = [chain.invoice("60000.00", days=90), chain.invoice("40000.00", days=60)]
    body = draft(api_as, chain, invoices, "90000.00")
    # advance  = min(90000.00, round(100000.00 x 0.90)) = 90000.00
    # days     = latest due date (today + 90) - value date (today) = 90
    # discount = round(90000.00 x 0.0435 x 90 / 360) = round(978.75) = 978.75
    # net      = 90000.00 - 978.75 = 89021.25
    # apr      = round6(978.75 / 89021.25 x 365 / 90) = round6(0.04458936...) = 0.044589
    assert body["status"] == "draft"
    assert body["quote"] == {
        "advance_amount": "90000.00",
        "discount_amount": "978.75",
        "net_proceeds": "89021.25",
        "annual_rate": "0.043500",
        "days": 90,
        "day_count": "ACT/360",
        "apr": "0.044589",
        "value_date": today().isoformat(),
        "maturity_date": (today() + timedelta(days=90)).isoformat(),
    }
    assert body["invoices"] == sorted(invoice.pk for invoice in invoices)
    assert body["requested_amount"] == "90000.00"
    assert (body["applicant"], body["bank"]) == (chain.supplier.pk, chain.bank.pk)
    assert [event["to_status"] for event in body["events"]] == ["draft"]


def test_the_quote_act_365_caps_the_advance_at_the_advance_rate(api_as):
    chain = make_chain(day_count="ACT/365", annual_rate="0.0435", advance_rate="0.80")
    invoices = [chain.invoice("150000.00", days=80), chain.invoice("87654.32", days=45)]
    body = draft(api_as, chain, invoices, "200000.00")
    # advance  = min(200000.00, round(237654.32 x 0.80)) = min(200000.00, round(190123.456))
    #          = 190123.46
    # days     = 80 (the later due date)
    # discount = round(190123.46 x 0.0435 x 80 / 365) = round(1812.68394...) = 1812.68
    # net      = 190123.46 - 1812.68 = 188310.78
    # apr      = round6(1812.68 / 188310.78 x 365 / 80) = 0.043919
    quote = body["quote"]
    assert (quote["advance_amount"], quote["discount_amount"], quote["net_proceeds"]) == (
        "190123.46",
        "1812.68",
        "188310.78",
    )
    assert (quote["days"], quote["day_count"], quote["apr"]) == (80, "ACT/365", "0.043919")


def test_four_eyes_above_the_threshold(api_as):
    chain = make_chain(threshold="50000.00")
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    first = api_as(chain.bank_checker, chain.bank).post(
        f"{REQUESTS}{request_id}/approve/", {"comment": "Looks fine."}, format="json"
    )
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "in_review"
    assert first.json()["approvals_needed"] == 2
    assert [a["checker"] for a in first.json()["approvals"]] == [chain.bank_checker.username]

    again = api_as(chain.bank_checker, chain.bank).post(
        f"{REQUESTS}{request_id}/approve/", {"comment": "Me again."}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "second_checker_required"
    assert Approval.objects.filter(request_id=request_id).count() == 1
    assert FinancingRequest.objects.get(pk=request_id).status == RequestStatus.IN_REVIEW

    second = api_as(chain.bank_checker2, chain.bank).post(
        f"{REQUESTS}{request_id}/approve/", {}, format="json"
    )
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "approved"
    assert [a["checker"] for a in second.json()["approvals"]] == [
        chain.bank_checker.username,
        chain.bank_checker2.username,
    ]


def test_below_the_threshold_one_approval_approves(api_as):
    chain = make_chain(threshold="500000.00")
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    response = api_as(chain.bank_checker, chain.bank).post(
        f"{REQUESTS}{request_id}/approve/", {}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approvals_needed"]) == ("approved", 1)


def test_the_preparer_never_approves(api_as):
    """A bank checker who is also the supplier's maker prepared the request: 403 at the bank."""
    chain = make_chain()
    both = member(chain.supplier, Role.MAKER)
    Membership.objects.create(user=both, organization=chain.bank, role=Role.CHECKER)
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00", user=both)
    response = api_as(both, chain.bank).post(f"{REQUESTS}{request_id}/approve/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert not Approval.objects.filter(request_id=request_id).exists()
    assert FinancingRequest.objects.get(pk=request_id).status == RequestStatus.IN_REVIEW
    rejected = api_as(both, chain.bank).post(
        f"{REQUESTS}{request_id}/reject/", {"reason": "My own."}, format="json"
    )
    assert rejected.status_code == 403


def test_the_applicant_does_not_see_the_banks_approvals(api_as):
    chain = make_chain(threshold="50000.00")
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    api_as(chain.bank_checker, chain.bank).post(f"{REQUESTS}{request_id}/approve/", {})
    as_bank = api_as(chain.bank_checker, chain.bank).get(f"{REQUESTS}{request_id}/").json()
    as_applicant = api_as(chain.supplier_maker, chain.supplier).get(f"{REQUESTS}{request_id}/")
    assert len(as_bank["approvals"]) == 1
    assert as_applicant.json()["approvals"] == []


def test_an_idempotency_key_replays_the_first_answer_and_does_nothing_again(api_as):
    chain = make_chain()
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    client = api_as(chain.bank_checker, chain.bank)
    url = f"{REQUESTS}{request_id}/approve/"
    first = client.post(url, {"comment": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="approve-1")
    events = RequestEvent.objects.filter(request_id=request_id).count()
    repeat = client.post(url, {"comment": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="approve-1")
    assert first.status_code == repeat.status_code == 200
    assert repeat.json() == first.json()
    assert repeat["Idempotent-Replayed"] == "true"
    assert RequestEvent.objects.filter(request_id=request_id).count() == events
    # Without the key the same call is a new one, refused by the request's state.
    assert client.post(url, {"comment": "ok"}, format="json").status_code == 409


def test_a_replayed_repayment_moves_money_once_and_another_body_is_422(api_as):
    chain = make_chain()
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    api_as(chain.bank_checker, chain.bank).post(f"{REQUESTS}{request_id}/approve/", {})
    api_as(chain.bank_maker, chain.bank).post(f"{REQUESTS}{request_id}/disburse/", {})
    core = api_as(chain.core_maker, chain.core)
    url = f"{REQUESTS}{request_id}/repayments/"
    body = {"amount": "1000.00", "paid_on": today().isoformat()}
    first = core.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    repeat = core.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    other = core.post(
        url, {**body, "amount": "2000.00"}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    request = FinancingRequest.objects.get(pk=request_id)
    assert Repayment.objects.filter(request_id=request_id).count() == 1
    assert request.repaid_amount == 1000
    assert core.get(url).json()["count"] == 1


def test_a_refused_first_attempt_leaves_the_key_free_for_the_corrected_one(api_as):
    chain = make_chain()
    request_id = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    client = api_as(chain.bank_checker, chain.bank)
    url = f"{REQUESTS}{request_id}/reject/"
    refused = client.post(url, {"reason": ""}, format="json", HTTP_IDEMPOTENCY_KEY="reject-1")
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="reject-1").exists()
    corrected = client.post(
        url, {"reason": "Too concentrated."}, format="json", HTTP_IDEMPOTENCY_KEY="reject-1"
    )
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["status"] == "rejected"


def test_a_key_belongs_to_its_organization(api_as):
    chain = make_chain()
    a = chain.invoice("1000.00", confirm=False)
    other = make_chain(prefix="Other ")
    b = other.invoice("1000.00", confirm=False)
    mine = api_as(chain.core_checker, chain.core).post(
        f"/api/v1/invoices/{a.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="confirm-1"
    )
    theirs = api_as(other.core_checker, other.core).post(
        f"/api/v1/invoices/{b.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="confirm-1"
    )
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert (mine.json()["id"], theirs.json()["id"]) == (a.pk, b.pk)


def test_the_approval_queue_oldest_first_with_waiting_seconds(api_as):
    chain = make_chain(threshold="50000.00")
    younger = in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    older = in_review(api_as, chain, [chain.invoice("40000.00")], "30000.00")
    now = timezone.now()
    FinancingRequest.objects.filter(pk=older).update(queued_at=now - timedelta(hours=2))
    FinancingRequest.objects.filter(pk=younger).update(queued_at=now - timedelta(hours=1))
    api_as(chain.bank_checker, chain.bank).post(f"{REQUESTS}{younger}/approve/", {})
    elsewhere = make_chain(prefix="Other ")
    theirs = in_review(api_as, elsewhere, [elsewhere.invoice("10000.00")], "9000.00")

    viewer = member(chain.bank, Role.VIEWER)
    body = api_as(viewer, chain.bank).get("/api/v1/approval-queue/").json()
    assert [item["id"] for item in body["results"]] == [older, younger]
    first, second = body["results"]
    assert first["waiting_seconds"] >= 2 * 3600
    # One clock for the page: the waits differ by exactly the hour between the two queue times.
    assert first["waiting_seconds"] - second["waiting_seconds"] == 3600
    assert (first["approvals_needed"], first["approvals"]) == (1, 0)
    assert (second["approvals_needed"], second["approvals"]) == (2, 1)
    assert (second["advance_amount"], second["requested_amount"]) == ("90000.00", "90000.00")

    other_queue = api_as(elsewhere.bank_checker, elsewhere.bank).get("/api/v1/approval-queue/")
    assert [item["id"] for item in other_queue.json()["results"]] == [theirs]
    # Approved, it leaves the queue.
    api_as(chain.bank_checker2, chain.bank).post(f"{REQUESTS}{younger}/approve/", {})
    body = api_as(viewer, chain.bank).get("/api/v1/approval-queue/").json()
    assert [item["id"] for item in body["results"]] == [older]


def test_the_approval_queue_is_the_banks(api_as):
    chain = make_chain()
    in_review(api_as, chain, [chain.invoice("100000.00")], "90000.00")
    response = api_as(chain.supplier_admin, chain.supplier).get("/api/v1/approval-queue/")
    assert response.status_code == 403


def test_program_participants_as_each_party_sees_them(api_as):
    chain = make_chain()
    other = OrganizationFactory(name="Second Supplier")
    added = api_as(chain.core_maker, chain.core).post(
        f"/api/v1/programs/{chain.program.pk}/participants/",
        {"organization": other.pk, "role": "supplier", "limit": "250000.00"},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert (added.json()["limit"], added.json()["available"]) == ("250000.00", "250000.00")
    path = f"/api/v1/programs/{chain.program.pk}/participants/"

    def organizations(user, organization):
        response = api_as(user, organization).get(path)
        assert response.status_code == 200
        return sorted(item["organization"] for item in response.json()["results"])

    everyone = sorted([chain.supplier.pk, other.pk])
    assert organizations(chain.bank_checker, chain.bank) == everyone
    assert organizations(chain.core_checker, chain.core) == everyone
    # A participant sees its own participation, not its competitors'.
    assert organizations(chain.supplier_maker, chain.supplier) == [chain.supplier.pk]
    program = api_as(chain.supplier_maker, chain.supplier).get("/api/v1/programs/").json()
    assert [p["id"] for p in program["results"]] == [chain.program.pk]
    assert program["results"][0]["available"] == "10000000.00"


def test_a_bank_sets_up_a_program(api_as):
    chain = make_chain()
    response = api_as(chain.bank_checker, chain.bank).post(
        "/api/v1/programs/",
        {
            "name": "Express",
            "core_enterprise": chain.core.pk,
            "currency": "CNY",
            "credit_limit": "2000000.00",
            "advance_rate": "0.85",
            "annual_rate": "0.052",
            "day_count": "ACT/365",
            "max_tenor_days": 90,
            "dual_approval_threshold": "0",
            "products": ["receivables"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["bank"], body["core_enterprise"], body["status"]) == (
        chain.bank.pk,
        chain.core.pk,
        "active",
    )
    assert (body["utilized"], body["available"], body["dual_approval_threshold"]) == (
        "0.00",
        "2000000.00",
        "0.00",
    )
    assert (body["advance_rate"], body["annual_rate"]) == ("0.8500", "0.052000")
