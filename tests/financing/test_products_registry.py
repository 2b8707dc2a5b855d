"""Programs offer only the products that exist (the registry), in the service, the API and the
portal; requests are made only for them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from financing.models import Program
from financing.products.base import FinancingProduct
from financing.products.registry import product_codes, product_for
from financing.services.programs import program_create
from tests.financing.factories import make_chain
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db

NOT_BUILT = ["inventory_pledge", "prepayment"]


def program_body(chain, products) -> dict:
    return {
        "name": "Line",
        "core_enterprise": chain.core.pk,
        "currency": "CNY",
        "credit_limit": "1000000.00",
        "advance_rate": "0.80",
        "annual_rate": "0.05",
        "day_count": "ACT/360",
        "max_tenor_days": 90,
        "dual_approval_threshold": "0",
        "products": products,
    }


def test_the_registry_holds_receivables_only():
    assert product_codes() == ["receivables"]
    assert product_for("receivables").code == "receivables"
    with pytest.raises(KeyError):
        product_for("inventory_pledge")


@pytest.mark.parametrize("product", NOT_BUILT)
def test_the_service_refuses_a_product_not_built(product):
    chain = make_chain()
    body = program_body(chain, ["receivables", product])
    with pytest.raises(ValidationError) as refused:
        program_create(
            bank=chain.bank,
            actor=chain.bank_admin,
            **{
                **body,
                "core_enterprise": chain.core,
                "credit_limit": Decimal(body["credit_limit"]),
                "advance_rate": Decimal(body["advance_rate"]),
                "annual_rate": Decimal(body["annual_rate"]),
                "dual_approval_threshold": Decimal(0),
            },
        )
    assert "products" in refused.value.message_dict
    assert not Program.objects.filter(name="Line").exists()


@pytest.mark.parametrize("products", [["inventory_pledge"], ["receivables", "prepayment"]])
def test_the_api_answers_400_for_a_product_not_built(api_as, products):
    chain = make_chain()
    response = api_as(chain.bank_checker, chain.bank).post(
        "/api/v1/programs/", program_body(chain, products), format="json"
    )
    assert response.status_code == 400, response.json()
    assert "products" in response.json()
    assert not Program.objects.filter(name="Line").exists()


def test_the_api_takes_no_request_for_a_product_not_built(api_as):
    chain = make_chain()
    invoice = chain.invoice()
    response = api_as(chain.supplier_maker, chain.supplier).post(
        "/api/v1/financing-requests/",
        {
            "product": "inventory_pledge",
            "program": chain.program.pk,
            "requested_amount": "1000.00",
            "invoices": [invoice.pk],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "product" in response.json()


def test_the_portal_form_offers_only_registered_products():
    chain = make_chain()
    client = client_for(chain.bank_checker)
    body = client.get("/portal/programs/new/").content.decode()
    assert 'value="receivables"' in body
    for product in NOT_BUILT:
        assert f'value="{product}"' not in body
    form = {
        "name": "Spring Line",
        "core_enterprise": chain.core.credit_code,
        "currency": "CNY",
        "credit_limit": "5000000.00",
        "advance_rate": "0.85",
        "annual_rate": "0.04",
        "day_count": "ACT/365",
        "max_tenor_days": "120",
        "dual_approval_threshold": "300000.00",
        "products": ["receivables", "inventory_pledge"],
        "sla_hours": "12",
    }
    response = client.post("/portal/programs/new/", {**form, "confirmed": "1"})
    assert "inventory_pledge is not one of the available choices" in response.content.decode()
    assert not Program.objects.filter(name="Spring Line").exists()


def test_a_product_that_leaves_out_part_of_the_interface_cannot_be_made():
    """The interface is abstract: a product must say everything the lifecycle asks of it, so an
    incomplete one fails when it is made, before it can be registered."""

    class Incomplete(FinancingProduct):
        code = "incomplete"

        def quote(self, request, *, value_date):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()
