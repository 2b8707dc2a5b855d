"""The whole receivables flow through the API, screened by a real Celery worker: a bank sets up
two programs (ACT/360 with one approval, ACT/365 with four eyes), the core enterprise onboards
its supplier, the supplier uploads invoices that the core enterprise confirms, requests and
submits; the worker screens; the bank approves and disburses; the core enterprise repays in two
parts; both requests settle and the programs' limits are whole again."""

import time
from datetime import timedelta

import pytest

from scf_platform.models import OrganizationKind, Role
from scf_platform.tenancy import Scope, scope_activated
from tests.conftest import ActingClient
from tests.factories import OrganizationFactory, member
from tests.financing.factories import today

pytestmark = pytest.mark.worker

SCREENING_DEADLINE_SECONDS = 60


def post(client, path, body=None, expected=200):
    response = client.post(f"/api/v1{path}", body or {}, format="json")
    assert response.status_code == expected, (path, response.json())
    return response.json()


def get(client, path):
    response = client.get(f"/api/v1{path}")
    assert response.status_code == 200, (path, response.json())
    return response.json()


def screened(client, request_id: int) -> dict:
    """Poll the request until the worker has moved it out of `submitted`."""
    deadline = time.monotonic() + SCREENING_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        body = get(client, f"/financing-requests/{request_id}/")
        if body["status"] != "submitted":
            return body
        time.sleep(0.2)
    pytest.fail(f"request {request_id} was not screened within {SCREENING_DEADLINE_SECONDS} s")


def program_body(core, **terms) -> dict:
    return {
        "core_enterprise": core.pk,
        "currency": "CNY",
        "credit_limit": "5000000.00",
        "annual_rate": "0.0435",
        "max_tenor_days": 180,
        "products": ["receivables"],
        **terms,
    }


def test_the_whole_flow_through_the_api_with_the_real_worker(celery_worker_process):
    with scope_activated(Scope.platform()):
        bank = OrganizationFactory(kind=OrganizationKind.BANK, name="Flow Bank")
        core = OrganizationFactory(name="Flow Core")
        supplier = OrganizationFactory(name="Flow Supplier")
        bank_checker = ActingClient(member(bank, Role.CHECKER), bank)
        bank_checker2 = ActingClient(member(bank, Role.CHECKER), bank)
        bank_maker = ActingClient(member(bank, Role.MAKER), bank)
        core_checker = ActingClient(member(core, Role.CHECKER), core)
        core_maker = ActingClient(member(core, Role.MAKER), core)
        supplier_maker = ActingClient(member(supplier, Role.MAKER), supplier)

    # The bank's two lines to the core enterprise's chain; the core enterprise onboards.
    act360 = post(
        bank_checker,
        "/programs/",
        program_body(
            core,
            name="Line 360",
            advance_rate="0.90",
            day_count="ACT/360",
            dual_approval_threshold="1000000.00",
        ),
        201,
    )
    act365 = post(
        bank_checker,
        "/programs/",
        program_body(
            core,
            name="Line 365",
            advance_rate="0.80",
            day_count="ACT/365",
            dual_approval_threshold="100000.00",
        ),
        201,
    )
    for program in (act360, act365):
        assert (program["utilized"], program["available"]) == ("0.00", "5000000.00")
        post(
            core_maker,
            f"/programs/{program['id']}/participants/",
            {"organization": supplier.pk, "role": "supplier"},
            201,
        )

    # The supplier uploads four invoices; the core enterprise confirms them.
    invoices = {}
    for number, amount, days in (
        ("F-1", "60000.00", 90),
        ("F-2", "40000.00", 60),
        ("F-3", "150000.00", 80),
        ("F-4", "87654.32", 45),
    ):
        invoices[number] = post(
            supplier_maker,
            "/invoices/",
            {
                "number": number,
                "buyer": core.pk,
                "issue_date": today().isoformat(),
                "due_date": (today() + timedelta(days=days)).isoformat(),
                "currency": "CNY",
                "amount": amount,
            },
            201,
        )["id"]
    for invoice_id in invoices.values():
        assert post(core_checker, f"/invoices/{invoice_id}/confirm/")["status"] == "confirmed"

    # Two requests, drafted and submitted; the worker screens them.
    def request(program, numbers, amount):
        draft = post(
            supplier_maker,
            "/financing-requests/",
            {
                "product": "receivables",
                "program": program["id"],
                "requested_amount": amount,
                "invoices": [invoices[n] for n in numbers],
            },
            201,
        )
        assert post(supplier_maker, f"/financing-requests/{draft['id']}/submit/")["status"] == (
            "submitted"
        )
        return draft["id"]

    single = request(act360, ["F-1", "F-2"], "90000.00")
    four_eyes = request(act365, ["F-3", "F-4"], "180000.00")
    for request_id in (single, four_eyes):
        body = screened(supplier_maker, request_id)
        assert body["status"] == "in_review", body["screening"]
        assert body["screening"]["passed"] is True
    queue = get(bank_checker, "/approval-queue/")["results"]
    assert {item["id"]: item["approvals_needed"] for item in queue} == {single: 1, four_eyes: 2}
    # Screening reserved each advance on its program.
    assert get(bank_checker, f"/programs/{act360['id']}/")["utilized"] == "90000.00"
    assert get(bank_checker, f"/programs/{act365['id']}/")["utilized"] == "180000.00"

    # Approval: one checker for the small line, two different ones above the threshold.
    assert post(bank_checker, f"/financing-requests/{single}/approve/")["status"] == "approved"
    first = post(bank_checker, f"/financing-requests/{four_eyes}/approve/", {"comment": "1/2"})
    assert first["status"] == "in_review"
    second = post(bank_checker2, f"/financing-requests/{four_eyes}/approve/", {"comment": "2/2"})
    assert second["status"] == "approved"

    # Disbursement with an explicit value date (today) fixes the quotes.
    value_date = today().isoformat()
    disbursed_360 = post(
        bank_maker, f"/financing-requests/{single}/disburse/", {"value_date": value_date}
    )
    disbursed_365 = post(
        bank_maker, f"/financing-requests/{four_eyes}/disburse/", {"value_date": value_date}
    )
    # ACT/360: advance = min(90000.00, round(100000.00 x 0.90)) = 90000.00; days = 90;
    # discount = round(90000.00 x 0.0435 x 90 / 360) = 978.75; net = 89021.25.
    assert disbursed_360["status"] == "disbursed"
    assert {k: disbursed_360["quote"][k] for k in ("advance_amount", "discount_amount")} == {
        "advance_amount": "90000.00",
        "discount_amount": "978.75",
    }
    assert (disbursed_360["quote"]["net_proceeds"], disbursed_360["quote"]["days"]) == (
        "89021.25",
        90,
    )
    # ACT/365: advance = min(180000.00, round(237654.32 x 0.80) = 190123.46) = 180000.00;
    # days = 80; discount = round(180000.00 x 0.0435 x 80 / 365) = round(1716.1643...) = 1716.16;
    # net = 180000.00 - 1716.16 = 178283.84.
    assert disbursed_365["quote"]["advance_amount"] == "180000.00"
    assert (disbursed_365["quote"]["discount_amount"], disbursed_365["quote"]["days"]) == (
        "1716.16",
        80,
    )
    assert disbursed_365["quote"]["net_proceeds"] == "178283.84"
    assert disbursed_365["quote"]["value_date"] == value_date
    assert disbursed_365["outstanding"] == "180000.00"

    # The core enterprise repays each in two parts; the second settles.
    paid_on = today().isoformat()
    for request_id, parts in (
        (single, ("50000.00", "40000.00")),
        (four_eyes, ("100000.00", "80000.00")),
    ):
        path = f"/financing-requests/{request_id}/repayments/"
        post(core_maker, path, {"amount": parts[0], "paid_on": paid_on}, 201)
        middle = get(core_maker, f"/financing-requests/{request_id}/")
        assert middle["status"] == "disbursed"
        post(core_maker, path, {"amount": parts[1], "paid_on": paid_on}, 201)
        final = get(supplier_maker, f"/financing-requests/{request_id}/")
        assert (final["status"], final["outstanding"]) == ("settled", "0.00")
        assert [r["amount"] for r in get(core_maker, path)["results"]] == list(parts)
        assert [e["to_status"] for e in final["events"]] == [
            "draft",
            "submitted",
            "in_review",
            *(["in_review"] if request_id == four_eyes else []),
            "approved",
            "disbursed",
            "disbursed",
            "settled",
        ]

    paid = get(supplier_maker, "/invoices/?status=paid")["results"]
    assert sorted(invoice["id"] for invoice in paid) == sorted(invoices.values())
    for program in (act360, act365):
        after = get(bank_checker, f"/programs/{program['id']}/")
        assert (after["utilized"], after["available"]) == ("0.00", "5000000.00")
