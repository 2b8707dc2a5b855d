"""Invoices and trade links over the API: upload, the SME payment-term flag, filters, the
buyer's confirmation and dispute, amounts as written."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import resolve

from suppliers.api.import_view import InvoiceImportView
from suppliers.models import Invoice, InvoiceEvent, InvoiceStatus, TradeLink
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain, today

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"


@pytest.fixture
def chain():
    return make_chain()


def upload(client, chain, **overrides):
    body = {
        "number": "INV-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=60)).isoformat(),
        "currency": "CNY",
        "amount": "1000.00",
        **overrides,
    }
    return client.post(INVOICES, body, format="json")


def test_the_seller_uploads_an_invoice(api_as, chain):
    response = upload(api_as(chain.supplier_maker, chain.supplier), chain, amount="125000.50")
    assert response.status_code == 201, response.json()
    body = response.json()
    invoice = Invoice.objects.get(pk=body["id"])
    assert body == {
        "id": invoice.pk,
        "number": "INV-1",
        "seller": chain.supplier.pk,
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=60)).isoformat(),
        "currency": "CNY",
        "amount": "125000.50",
        "status": "uploaded",
        "term_days": 60,
        "exceeds_sme_payment_term": False,
        "dispute_reason": "",
        "confirmed_at": None,
        "created_at": body["created_at"],
    }
    assert (invoice.created_by, invoice.amount) == (chain.supplier_maker, Decimal("125000.50"))
    assert list(invoice.events.values_list("to_status", flat=True)) == ["uploaded"]


def test_a_term_over_sixty_days_is_flagged_not_refused(api_as, chain):
    response = upload(
        api_as(chain.supplier_maker, chain.supplier),
        chain,
        due_date=(today() + timedelta(days=61)).isoformat(),
    )
    assert response.status_code == 201
    assert (response.json()["term_days"], response.json()["exceeds_sme_payment_term"]) == (
        61,
        True,
    )


def test_an_amount_may_be_a_json_number_with_up_to_two_decimals(api_as, chain):
    client = api_as(chain.supplier_maker, chain.supplier)
    body = {
        "number": "N-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=30)).isoformat(),
        "currency": "CNY",
        "amount": "AMOUNT",
    }
    # A JSON number, as written: not a string, and not through a Python float.
    body = json.dumps(body).replace('"AMOUNT"', "1234.5")
    response = client.post(INVOICES, body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "1234.50"


def test_the_buyer_confirms_once(api_as, chain):
    invoice = chain.invoice("5000.00", confirm=False)
    client = api_as(chain.core_checker, chain.core)
    response = client.post(f"{INVOICES}{invoice.pk}/confirm/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    assert response.json()["confirmed_at"] is not None
    again = client.post(f"{INVOICES}{invoice.pk}/confirm/")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert InvoiceEvent.objects.filter(invoice=invoice).count() == 2


def test_the_buyer_disputes_with_a_reason(api_as, chain):
    invoice = chain.invoice("5000.00", confirm=False)
    client = api_as(chain.core_checker, chain.core)
    without = client.post(f"{INVOICES}{invoice.pk}/dispute/", {}, format="json")
    assert without.status_code == 400
    assert "reason" in without.json()
    response = client.post(
        f"{INVOICES}{invoice.pk}/dispute/", {"reason": "Short delivery."}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["dispute_reason"]) == (
        "disputed",
        "Short delivery.",
    )


def test_the_list_filters_by_status_buyer_seller_and_due_date(api_as, chain):
    near = chain.invoice("1000.00", days=30)
    far = chain.invoice("2000.00", days=120)
    uploaded = chain.invoice("3000.00", days=60, confirm=False)
    client = api_as(chain.supplier_maker, chain.supplier)

    def ids(query):
        response = client.get(INVOICES, query)
        assert response.status_code == 200, response.json()
        return sorted(item["id"] for item in response.json()["results"])

    assert ids({}) == sorted([near.pk, far.pk, uploaded.pk])
    assert ids({"status": "confirmed"}) == sorted([near.pk, far.pk])
    assert ids({"status": "uploaded"}) == [uploaded.pk]
    assert ids({"buyer": chain.core.pk, "seller": chain.supplier.pk}) == ids({})
    window = {
        "due_date_after": (today() + timedelta(days=30)).isoformat(),
        "due_date_before": (today() + timedelta(days=60)).isoformat(),
    }
    assert ids(window) == sorted([near.pk, uploaded.pk])
    assert client.get(INVOICES, {"status": "nonsense"}).status_code == 400
    assert client.get(INVOICES, {"due_date_after": "next week"}).status_code == 400


def test_the_buyer_lists_what_it_owes(api_as, chain):
    invoice = chain.invoice("1000.00", confirm=False)
    body = api_as(chain.core_checker, chain.core).get(INVOICES, {"status": "uploaded"}).json()
    assert [item["id"] for item in body["results"]] == [invoice.pk]


def test_the_import_route_is_not_taken_for_an_invoice_id():
    assert resolve("/api/v1/invoices/import/").func.view_class is InvoiceImportView


def test_a_core_enterprise_links_a_supplier(api_as, chain):
    newcomer = OrganizationFactory(name="Newcomer")
    client = api_as(chain.core_maker, chain.core)
    response = client.post(
        "/api/v1/trade-links/", {"organization": newcomer.pk, "role": "supplier"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["core_enterprise"] == chain.core.pk
    assert response.json()["organization"] == newcomer.pk
    assert TradeLink.objects.filter(core_enterprise=chain.core, counterparty=newcomer).exists()
    # The newcomer may now upload invoices to the core enterprise.
    uploaded = upload(api_as(member(newcomer, "maker"), newcomer), chain, number="NEW-1")
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["status"] == InvoiceStatus.UPLOADED
    listed = api_as(chain.core_maker, chain.core).get("/api/v1/trade-links/").json()
    assert {link["organization"] for link in listed["results"]} == {
        chain.supplier.pk,
        newcomer.pk,
    }


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1000.005", "'1000.005' has more than two decimals."),
        ("1e3", "'1e3' is not an amount like 1234.50."),
        ("NaN", "'NaN' is not an amount like 1234.50."),
        ("-5.00", "An amount must be positive."),
        (0, "An amount must be positive."),
    ],
)
def test_an_amount_error_says_what_is_wrong(api_as, chain, amount, message):
    response = upload(api_as(chain.supplier_maker, chain.supplier), chain, amount=amount)
    assert response.status_code == 400
    assert response.json() == {"amount": [message]}
    assert not Invoice.objects.exists()
