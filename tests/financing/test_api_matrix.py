"""Who may do what, over the whole receivables API: an outsider gets 404 (never 403) and sees
nothing listed; every action refuses every wrong role with 403 and changes nothing; every bad
input answers 400 or 409 and writes nothing."""

import itertools
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from financing.models import (
    Approval,
    FinancingRequest,
    Program,
    ProgramParticipant,
    Repayment,
    RequestEvent,
)
from financing.products.receivables.models import ReceivableHold
from financing.services import decisions, drafting, money, periodic, screening
from financing.services.programs import participant_add
from scf_platform.models import (
    IdempotencyRecord,
    Notification,
    OrganizationKind,
    Role,
)
from suppliers.models import Invoice, InvoiceEvent, TradeLink
from suppliers.services import invoice_confirm, invoice_create, trade_link_create
from tests.conftest import ActingClient
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain, today

pytestmark = pytest.mark.django_db

API = "/api/v1"
_keys = itertools.count(1)


class World:
    """One receivables program (bank, core enterprise, supplier) and, unrelated to it, an
    outsider enterprise and an outsider bank; a user of any role in any of them on demand."""

    def __init__(self) -> None:
        self.chain = make_chain(threshold="1000000.00")
        self.orgs = {
            "bank": self.chain.bank,
            "core": self.chain.core,
            "supplier": self.chain.supplier,
            "outsider": OrganizationFactory(name="Outsider Co"),
            "outsider_bank": OrganizationFactory(kind=OrganizationKind.BANK, name="Outsider Bank"),
        }
        self._users: dict = {}

    def client(self, org: str, role: str) -> ActingClient:
        if (org, role) not in self._users:
            self._users[org, role] = member(self.orgs[org], role)
        return ActingClient(self._users[org, role], self.orgs[org])

    def invoice(self, amount="100000.00", *, confirm=True, days=90):
        return self.chain.invoice(amount, days=days, confirm=confirm)

    def request(self, status: str, amount="90000.00") -> FinancingRequest:
        """A request brought to `status` through the services."""
        chain = self.chain
        request = drafting.financing_request_create(
            applicant=chain.supplier,
            actor=chain.supplier_maker,
            product="receivables",
            program=chain.program,
            requested_amount=Decimal(amount),
            invoices=[self.invoice().pk],
        )
        steps = [
            lambda: drafting.financing_request_submit(
                request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
            ),
            lambda: screening.financing_request_screen(request_id=request.pk),
            lambda: decisions.financing_request_approve(
                request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
            ),
            lambda: money.financing_request_disburse(
                request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
            ),
            lambda: periodic.requests_mark_overdue(
                today=FinancingRequest.objects.get(pk=request.pk).maturity_date + timedelta(days=1)
            ),
        ]
        reached = ["draft", "submitted", "in_review", "approved", "disbursed", "overdue"]
        for step in steps[: reached.index(status)]:
            step()
        request.refresh_from_db()
        assert request.status == status, request.screening
        return request


@pytest.fixture
def world() -> World:
    return World()


def snapshot() -> dict:
    """Everything an API call could write, as the platform (test code) sees it."""
    return {
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status")),
        "invoice_events": InvoiceEvent.objects.count(),
        "links": TradeLink.objects.count(),
        "programs": list(Program.objects.order_by("pk").values_list("pk", "utilized")),
        "participants": list(
            ProgramParticipant.objects.order_by("pk").values_list("pk", "utilized")
        ),
        "requests": list(
            FinancingRequest.objects.order_by("pk").values_list(
                "pk", "status", "reserved_amount", "principal_outstanding", "repaid_amount"
            )
        ),
        "holds": list(ReceivableHold.objects.order_by("pk").values_list("pk", "active")),
        "approvals": Approval.objects.count(),
        "repayments": Repayment.objects.count(),
        "request_events": RequestEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def call(client, method: str, path: str, body=None):
    if method == "get":
        return client.get(f"{API}{path}")
    return client.post(
        f"{API}{path}", body or {}, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{next(_keys)}"
    )


# The outsider ---------------------------------------------------------------------------------

# (method, path with {invoice}/{program}/{request}, body, outsider org, outsider role): the role
# is one that would be allowed in the right organization, so only visibility can refuse it.
OUTSIDER_CALLS = [
    ("get", "/invoices/{invoice}/", None, "outsider", Role.ADMIN),
    ("post", "/invoices/{invoice}/confirm/", None, "outsider", Role.CHECKER),
    ("post", "/invoices/{invoice}/dispute/", {"reason": "No."}, "outsider", Role.CHECKER),
    ("get", "/programs/{program}/", None, "outsider", Role.ADMIN),
    ("get", "/programs/{program}/", None, "outsider_bank", Role.ADMIN),
    ("get", "/programs/{program}/participants/", None, "outsider", Role.ADMIN),
    (
        "post",
        "/programs/{program}/participants/",
        {"organization": "{outsider}", "role": "supplier"},
        "outsider",
        Role.ADMIN,
    ),
    ("get", "/financing-requests/{request}/", None, "outsider", Role.ADMIN),
    ("get", "/financing-requests/{request}/", None, "outsider_bank", Role.ADMIN),
    ("post", "/financing-requests/{draft}/submit/", None, "outsider", Role.MAKER),
    ("post", "/financing-requests/{request}/withdraw/", None, "outsider", Role.MAKER),
    ("post", "/financing-requests/{request}/approve/", None, "outsider_bank", Role.CHECKER),
    (
        "post",
        "/financing-requests/{request}/reject/",
        {"reason": "No."},
        "outsider_bank",
        Role.CHECKER,
    ),
    ("post", "/financing-requests/{approved}/disburse/", None, "outsider_bank", Role.MAKER),
    ("get", "/financing-requests/{disbursed}/repayments/", None, "outsider", Role.ADMIN),
    (
        "post",
        "/financing-requests/{disbursed}/repayments/",
        {"amount": "1.00", "paid_on": "{today}"},
        "outsider",
        Role.MAKER,
    ),
    (
        "post",
        "/financing-requests/{overdue}/default/",
        {"reason": "No."},
        "outsider_bank",
        Role.ADMIN,
    ),
]


@pytest.fixture
def objects(world) -> dict:
    return {
        "invoice": world.invoice(confirm=False).pk,
        "program": world.chain.program.pk,
        "draft": world.request("draft").pk,
        "request": world.request("in_review").pk,
        "approved": world.request("approved").pk,
        "disbursed": world.request("disbursed").pk,
        "overdue": world.request("overdue").pk,
        "outsider": world.orgs["outsider"].pk,
        "today": today().isoformat(),
    }


def _fill(value, objects):
    if isinstance(value, str):
        filled = value.format(**objects)
        return int(filled) if filled.isdigit() and value.startswith("{") else filled
    if isinstance(value, dict):
        return {key: _fill(item, objects) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, objects) for item in value]
    return value


def test_an_outsider_gets_404_from_every_object_endpoint_and_nothing_changes(world, objects):
    before = snapshot()
    answers = {}
    for method, path, body, org, role in OUTSIDER_CALLS:
        response = call(world.client(org, role), method, _fill(path, objects), _fill(body, objects))
        answers[method, path, org] = response.status_code
    assert answers == dict.fromkeys(answers, 404)
    assert snapshot() == before
    # The same calls by the parties are answered (so the 404s above are about visibility).
    invoice = f"/invoices/{objects['invoice']}/"
    assert call(world.client("supplier", Role.VIEWER), "get", invoice).status_code == 200
    for org in ("bank", "core", "supplier"):
        path = f"/financing-requests/{objects['request']}/"
        assert call(world.client(org, Role.VIEWER), "get", path).status_code == 200


@pytest.mark.parametrize(
    ("path", "org", "role"),
    [
        ("/invoices/", "outsider", Role.ADMIN),
        ("/trade-links/", "outsider", Role.ADMIN),
        ("/programs/", "outsider", Role.ADMIN),
        ("/programs/", "outsider_bank", Role.ADMIN),
        ("/financing-requests/", "outsider", Role.ADMIN),
        ("/financing-requests/", "outsider_bank", Role.ADMIN),
        ("/approval-queue/", "outsider_bank", Role.CHECKER),
    ],
)
def test_an_outsider_lists_nothing(world, objects, path, org, role):
    outsider = call(world.client(org, role), "get", path)
    assert outsider.status_code == 200
    assert (outsider.json()["count"], outsider.json()["results"]) == (0, [])
    party = "bank" if path in ("/approval-queue/", "/programs/") else "supplier"
    assert call(world.client(party, Role.VIEWER), "get", path).json()["count"] >= 1


def test_an_outsider_cannot_name_what_it_does_not_see(world, objects):
    client = world.client("outsider", Role.MAKER)
    before = snapshot()
    invoice = call(
        client,
        "post",
        "/invoices/",
        {
            "number": "X-1",
            "buyer": world.chain.core.pk,
            "issue_date": today().isoformat(),
            "due_date": (today() + timedelta(days=30)).isoformat(),
            "currency": "CNY",
            "amount": "100.00",
        },
    )
    request = call(
        client,
        "post",
        "/financing-requests/",
        {
            "product": "receivables",
            "program": world.chain.program.pk,
            "requested_amount": "100.00",
            "invoices": [objects["invoice"]],
        },
    )
    missing = call(
        client,
        "post",
        "/financing-requests/",
        {
            "product": "receivables",
            "program": 987654321,
            "requested_amount": "100.00",
            "invoices": [objects["invoice"]],
        },
    )
    assert (invoice.status_code, request.status_code, missing.status_code) == (400, 400, 400)
    assert invoice.json()["buyer"] == [f"Unknown buyer {world.chain.core.pk}."]
    # An existing program and a missing one are refused alike.
    assert request.json()["program"] == [f"Unknown program {world.chain.program.pk}."]
    assert missing.json()["program"] == ["Unknown program 987654321."]
    assert snapshot() == before


# Wrong roles ----------------------------------------------------------------------------------

# name: (state to set up, method path body, wrong (org, role) pairs, right (org, role), status)
ROLE_CASES = {
    "invoice-create": (
        None,
        (
            "post",
            "/invoices/",
            {
                "number": "R-1",
                "buyer": "{core}",
                "issue_date": "{today}",
                "due_date": "{later}",
                "currency": "CNY",
                "amount": "500.00",
            },
        ),
        [("supplier", Role.VIEWER), ("supplier", Role.CHECKER), ("bank", Role.MAKER)],
        ("supplier", Role.MAKER),
        201,
    ),
    "invoice-confirm": (
        "invoice",
        ("post", "/invoices/{invoice}/confirm/", None),
        [
            ("core", Role.VIEWER),
            ("core", Role.MAKER),
            ("supplier", Role.CHECKER),
            ("supplier", Role.ADMIN),
            ("bank", Role.CHECKER),
        ],
        ("core", Role.CHECKER),
        200,
    ),
    "invoice-dispute": (
        "invoice",
        ("post", "/invoices/{invoice}/dispute/", {"reason": "Wrong price."}),
        [("core", Role.VIEWER), ("core", Role.MAKER), ("supplier", Role.ADMIN)],
        ("core", Role.ADMIN),
        200,
    ),
    "trade-link-create": (
        None,
        ("post", "/trade-links/", {"organization": "{newcomer}", "role": "supplier"}),
        [("core", Role.VIEWER), ("core", Role.CHECKER), ("bank", Role.ADMIN)],
        ("core", Role.MAKER),
        201,
    ),
    "program-create": (
        None,
        (
            "post",
            "/programs/",
            {
                "name": "Second line",
                "core_enterprise": "{core}",
                "currency": "CNY",
                "credit_limit": "1000000.00",
                "advance_rate": "0.80",
                "annual_rate": "0.05",
                "day_count": "ACT/365",
                "max_tenor_days": 120,
                "dual_approval_threshold": "100000.00",
                "products": ["receivables"],
            },
        ),
        [("bank", Role.VIEWER), ("bank", Role.MAKER), ("core", Role.ADMIN)],
        ("bank", Role.CHECKER),
        201,
    ),
    "participant-add": (
        None,
        (
            "post",
            "/programs/{program}/participants/",
            {"organization": "{newcomer}", "role": "supplier", "limit": "50000.00"},
        ),
        [
            ("core", Role.VIEWER),
            ("core", Role.CHECKER),
            ("bank", Role.ADMIN),
            ("supplier", Role.ADMIN),
        ],
        ("core", Role.MAKER),
        201,
    ),
    "request-create": (
        "confirmed",
        (
            "post",
            "/financing-requests/",
            {
                "product": "receivables",
                "program": "{program}",
                "requested_amount": "1000.00",
                "invoices": ["{confirmed}"],
            },
        ),
        [("supplier", Role.VIEWER), ("supplier", Role.CHECKER), ("bank", Role.MAKER)],
        ("supplier", Role.ADMIN),
        201,
    ),
    "submit": (
        "draft",
        ("post", "/financing-requests/{request}/submit/", None),
        [
            ("supplier", Role.VIEWER),
            ("supplier", Role.CHECKER),
            # Not the core's maker: a draft is not the core's to see (404, not 403).
            ("core", Role.VIEWER),
            ("bank", Role.MAKER),
        ],
        ("supplier", Role.ADMIN),
        200,
    ),
    "withdraw": (
        "in_review",
        ("post", "/financing-requests/{request}/withdraw/", None),
        [
            ("supplier", Role.VIEWER),
            ("supplier", Role.CHECKER),
            ("core", Role.ADMIN),
            ("bank", Role.ADMIN),
        ],
        ("supplier", Role.MAKER),
        200,
    ),
    "approve": (
        "in_review",
        ("post", "/financing-requests/{request}/approve/", {"comment": "ok"}),
        [
            ("bank", Role.VIEWER),
            ("bank", Role.MAKER),
            ("bank", Role.ADMIN),
            ("supplier", Role.CHECKER),
            ("core", Role.CHECKER),
        ],
        ("bank", Role.CHECKER),
        200,
    ),
    "reject": (
        "in_review",
        ("post", "/financing-requests/{request}/reject/", {"reason": "Concentration."}),
        [
            ("bank", Role.VIEWER),
            ("bank", Role.MAKER),
            ("supplier", Role.CHECKER),
            ("core", Role.ADMIN),
        ],
        ("bank", Role.CHECKER),
        200,
    ),
    "disburse": (
        "approved",
        ("post", "/financing-requests/{request}/disburse/", {"value_date": "{today}"}),
        [("bank", Role.VIEWER), ("supplier", Role.MAKER), ("core", Role.ADMIN)],
        ("bank", Role.MAKER),
        200,
    ),
    "repay": (
        "disbursed",
        (
            "post",
            "/financing-requests/{request}/repayments/",
            {"amount": "1000.00", "paid_on": "{today}"},
        ),
        [
            ("core", Role.VIEWER),
            ("supplier", Role.MAKER),
            ("supplier", Role.ADMIN),
            ("bank", Role.MAKER),
        ],
        ("core", Role.CHECKER),
        201,
    ),
    "default": (
        "overdue",
        ("post", "/financing-requests/{request}/default/", {"reason": "Unpaid."}),
        [
            ("bank", Role.VIEWER),
            ("bank", Role.MAKER),
            ("supplier", Role.ADMIN),
            ("core", Role.ADMIN),
        ],
        ("bank", Role.ADMIN),
        200,
    ),
}


@pytest.mark.parametrize("case", ROLE_CASES)
def test_every_wrong_role_is_403_and_changes_nothing(world, case):
    state, (method, path, body), wrong, right, right_status = ROLE_CASES[case]
    objects = {
        "core": world.chain.core.pk,
        "program": world.chain.program.pk,
        "newcomer": OrganizationFactory(name="Newcomer").pk,
        "today": today().isoformat(),
        "later": (today() + timedelta(days=30)).isoformat(),
    }
    if state == "invoice":
        objects["invoice"] = world.invoice(confirm=False).pk
    elif state == "confirmed":
        objects["confirmed"] = world.invoice().pk
    elif state is not None:
        objects["request"] = world.request(state).pk
    path, body = _fill(path, objects), _fill(body, objects)
    before = snapshot()
    answers = {
        (org, role): call(world.client(org, role), method, path, body) for org, role in wrong
    }
    assert {who: r.status_code for who, r in answers.items()} == dict.fromkeys(answers, 403)
    assert all("detail" in r.json() for r in answers.values())
    assert snapshot() == before
    # The right role, on the very same state, succeeds: the 403s were about the role.
    allowed = call(world.client(*right), method, path, body)
    assert allowed.status_code == right_status, allowed.json()
    assert snapshot() != before


# Bad input ------------------------------------------------------------------------------------


def refused(client, path, body, *, status=400, raw=False):
    """Post and expect a refusal that writes nothing; returns the response's JSON."""
    before = snapshot()
    if raw:
        response = client.post(f"{API}{path}", body, content_type="application/json")
    else:
        response = client.post(f"{API}{path}", body, format="json")
    assert response.status_code == status, (body, response.content)
    assert snapshot() == before
    return response.json()


def invoice_body(world, **overrides) -> dict:
    return {
        "number": "B-1",
        "buyer": world.chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=30)).isoformat(),
        "currency": "CNY",
        "amount": "1000.00",
        **overrides,
    }


def test_a_duplicate_invoice_number_is_400_never_a_twin(world):
    client = world.client("supplier", Role.MAKER)
    assert client.post(f"{API}/invoices/", invoice_body(world), format="json").status_code == 201
    for number in ("B-1", " B-1 "):
        errors = refused(client, "/invoices/", invoice_body(world, number=number, amount="5.00"))
        assert list(errors) == ["number"]
    assert Invoice.objects.filter(seller=world.chain.supplier, number="B-1").count() == 1


@pytest.mark.parametrize(
    "amount",
    [
        "0",
        "0.00",
        0,
        "-5.00",
        -1,
        "1000.005",
        "1e3",
        "1E3",
        "NaN",
        "Infinity",
        "-Infinity",
        "1,000.00",
        "",
        " ",
        None,
        True,
        {"value": "1.00"},
        ["1.00"],
        "12345678901234567.00",
    ],
)
def test_a_bad_invoice_amount_is_400(world, amount):
    client = world.client("supplier", Role.MAKER)
    errors = refused(client, "/invoices/", invoice_body(world, amount=amount))
    assert list(errors) == ["amount"]


@pytest.mark.parametrize("amount", ["1000.005", "1e3", "1E+3", "-0.5", "0", "0.001"])
def test_a_bad_amount_as_a_json_number_is_400(world, amount):
    # The number goes into the JSON text as written, not through a Python float.
    body = json.dumps(invoice_body(world, amount="AMOUNT")).replace('"AMOUNT"', amount)
    errors = refused(world.client("supplier", Role.MAKER), "/invoices/", body, raw=True)
    assert list(errors) == ["amount"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_as_json_are_400(world, constant):
    body = json.dumps({"amount": "AMOUNT", "paid_on": today().isoformat()})
    body = body.replace('"AMOUNT"', constant)
    request = world.request("disbursed")
    client = world.client("core", Role.MAKER)
    errors = refused(client, f"/financing-requests/{request.pk}/repayments/", body, raw=True)
    assert "JSON parse error" in errors["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_date": (today() - timedelta(days=1)).isoformat()}, "due_date"),
        ({"issue_date": "2026/01/05"}, "issue_date"),
        ({"due_date": "2026-02-30"}, "due_date"),
        ({"buyer": 987654321}, "buyer"),
        ({"buyer": "abc"}, "buyer"),
        ({"buyer": 2**70}, "buyer"),
        ({"buyer": True}, "buyer"),
        ({"currency": "XYZ"}, "currency"),
        ({"number": ""}, "number"),
        ({"number": "ＩＮＶ１"}, "number"),
    ],
)
def test_bad_invoice_fields_are_400(world, overrides, field):
    client = world.client("supplier", Role.MAKER)
    errors = refused(client, "/invoices/", invoice_body(world, **overrides))
    assert field in errors


def test_an_unrelated_buyer_is_unknown(world):
    stranger = OrganizationFactory(name="Stranger")
    client = world.client("supplier", Role.MAKER)
    errors = refused(client, "/invoices/", invoice_body(world, buyer=stranger.pk))
    assert errors == {"buyer": [f"Unknown buyer {stranger.pk}."]}


def request_body(world, collateral, amount="1000.00", **overrides) -> dict:
    return {
        "product": "receivables",
        "program": world.chain.program.pk,
        "requested_amount": amount,
        "invoices": [invoice.pk for invoice in collateral],
        **overrides,
    }


def test_requesting_unconfirmed_invoices_is_400(world):
    uploaded = world.invoice(confirm=False)
    client = world.client("supplier", Role.MAKER)
    errors = refused(client, "/financing-requests/", request_body(world, [uploaded]))
    assert list(errors) == ["invoices"]
    assert "not confirmed" in errors["invoices"][0]


def test_requesting_invoices_of_another_core_enterprise_is_400(world):
    chain = world.chain
    other_core = OrganizationFactory(name="Other Core")
    trade_link_create(
        core_enterprise=other_core,
        counterparty=chain.supplier,
        role="supplier",
        actor=member(other_core, Role.ADMIN),
    )
    theirs = invoice_create(
        seller=chain.supplier,
        buyer=other_core,
        number="OC-1",
        issue_date=today(),
        due_date=today() + timedelta(days=60),
        currency="CNY",
        amount=Decimal("50000.00"),
        actor=chain.supplier_maker,
    )
    invoice_confirm(invoice_id=theirs.pk, buyer=other_core, actor=member(other_core, "checker"))
    client = world.client("supplier", Role.MAKER)
    errors = refused(client, "/financing-requests/", request_body(world, [theirs]))
    assert errors["invoices"] == ["Invoice OC-1 is not owed by the program's core enterprise."]


def test_requesting_another_suppliers_invoice_is_400(world):
    rival = OrganizationFactory(name="Rival")
    participant_add(
        program=world.chain.program,
        core_enterprise=world.chain.core,
        actor=world.chain.core_maker,
        organization=rival,
        role="supplier",
    )
    client = ActingClient(member(rival, Role.MAKER), rival)
    errors = refused(client, "/financing-requests/", request_body(world, [world.invoice()]))
    assert list(errors) == ["invoices"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"invoices": []}, "invoices"),
        ({"invoices": ["abc"]}, "invoices"),
        ({"invoices": [2**70]}, "invoices"),
        ({"invoices": "1"}, "invoices"),
        ({"requested_amount": "1e3"}, "requested_amount"),
        ({"requested_amount": "90000.001"}, "requested_amount"),
        ({"requested_amount": "-1.00"}, "requested_amount"),
        ({"product": "inventory_pledge"}, "product"),
        ({"product": "factoring"}, "product"),
        ({"program": None}, "program"),
    ],
)
def test_bad_request_fields_are_400(world, overrides, field):
    client = world.client("supplier", Role.MAKER)
    errors = refused(
        client, "/financing-requests/", request_body(world, [world.invoice()], **overrides)
    )
    assert field in errors


def test_an_invoice_in_an_active_request_is_already_financed(world):
    held = world.request("submitted")
    invoice_id = held.receivable_holds.get().invoice_id
    client = world.client("supplier", Role.MAKER)
    body = request_body(world, [], invoices=[invoice_id])
    errors = refused(client, "/financing-requests/", body, status=409)
    assert errors["code"] == "already_financed"


def test_reject_and_default_need_a_reason(world):
    in_review, overdue = world.request("in_review"), world.request("overdue")
    checker, admin = world.client("bank", Role.CHECKER), world.client("bank", Role.ADMIN)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        assert "reason" in refused(checker, f"/financing-requests/{in_review.pk}/reject/", body)
        assert "reason" in refused(admin, f"/financing-requests/{overdue.pk}/default/", body)


def test_repaying_more_than_outstanding_is_400(world):
    request = world.request("disbursed")
    client = world.client("core", Role.MAKER)
    path = f"/financing-requests/{request.pk}/repayments/"
    errors = refused(client, path, {"amount": "90000.01", "paid_on": today().isoformat()})
    assert errors == {"amount": ["Only 90000.00 CNY is outstanding."]}
    future = (today() + timedelta(days=1)).isoformat()
    assert "paid_on" in refused(client, path, {"amount": "10.00", "paid_on": future})
    assert "paid_on" in refused(client, path, {"amount": "10.00"})
    assert "amount" in refused(client, path, {"amount": "10.001", "paid_on": today().isoformat()})


def test_disbursing_twice_is_409(world):
    request = world.request("approved")
    client = world.client("bank", Role.MAKER)
    path = f"/financing-requests/{request.pk}/disburse/"
    assert client.post(f"{API}{path}", {}, format="json").status_code == 200
    errors = refused(client, path, {}, status=409)
    assert errors["code"] == "illegal_transition"


def test_a_future_or_malformed_value_date_is_400(world):
    request = world.request("approved")
    client = world.client("bank", Role.MAKER)
    path = f"/financing-requests/{request.pk}/disburse/"
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert "value_date" in refused(client, path, {"value_date": tomorrow})
    assert "value_date" in refused(client, path, {"value_date": "today"})


def test_actions_out_of_order_are_409(world):
    # Submitted, not a draft: a draft is its applicant's alone (the others get 404).
    early = world.request("submitted")
    approve = refused(
        world.client("bank", Role.CHECKER),
        f"/financing-requests/{early.pk}/approve/",
        {},
        status=409,
    )
    repay = refused(
        world.client("core", Role.MAKER),
        f"/financing-requests/{early.pk}/repayments/",
        {"amount": "1.00", "paid_on": today().isoformat()},
        status=409,
    )
    assert approve["code"] == repay["code"] == "illegal_transition"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"advance_rate": "1.5"}, "advance_rate"),
        ({"annual_rate": "0.12345678"}, "annual_rate"),
        ({"annual_rate": "NaN"}, "annual_rate"),
        ({"credit_limit": "0"}, "credit_limit"),
        ({"credit_limit": "1e9"}, "credit_limit"),
        ({"dual_approval_threshold": "-1"}, "dual_approval_threshold"),
        ({"day_count": "30/360"}, "day_count"),
        ({"products": []}, "products"),
        ({"products": ["loans"]}, "products"),
        ({"max_tenor_days": 0}, "max_tenor_days"),
        ({"core_enterprise": 987654321}, "core_enterprise"),
        ({"core_enterprise": 2**70}, "core_enterprise"),
    ],
)
def test_bad_program_fields_are_400(world, overrides, field):
    body = {
        "name": "Line",
        "core_enterprise": world.chain.core.pk,
        "currency": "CNY",
        "credit_limit": "1000000.00",
        "advance_rate": "0.80",
        "annual_rate": "0.05",
        "day_count": "ACT/360",
        "max_tenor_days": 90,
        "dual_approval_threshold": "0",
        "products": ["receivables"],
        **overrides,
    }
    assert field in refused(world.client("bank", Role.ADMIN), "/programs/", body)


def test_a_bad_participant_is_400(world):
    client = world.client("core", Role.ADMIN)
    path = f"/programs/{world.chain.program.pk}/participants/"
    newcomer = OrganizationFactory(name="Newcomer")
    supplier = world.chain.supplier.pk
    assert "organization" in refused(client, path, {"organization": supplier, "role": "supplier"})
    assert "limit" in refused(
        client, path, {"organization": newcomer.pk, "role": "supplier", "limit": "-1"}
    )
    assert "role" in refused(client, path, {"organization": newcomer.pk, "role": "buyer"})
    assert "organization" in refused(client, path, {"organization": 2**70, "role": "supplier"})


def test_bad_list_filters_are_400_not_500(world):
    client = world.client("supplier", Role.VIEWER)
    for query in ("buyer=abc", f"buyer={2**70}", "status=lost", "due_date_before=2026-13-01"):
        response = client.get(f"{API}/invoices/?{query}")
        assert response.status_code == 400, (query, response.content)
    assert client.get(f"{API}/financing-requests/?program={2**70}").status_code == 400
