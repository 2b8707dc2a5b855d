"""A draft belongs to its applicant until submitted: the bank and the core enterprise do not see
it, not in the API, not in the portal, not in the database itself (row-level security)."""

from decimal import Decimal

import pytest
from django.db import connection

from financing.models import FinancingRequest
from financing.services import drafting
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice
from tests.financing.factories import make_chain, submit_request
from tests.portal.conftest import client_for, text

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/financing-requests/"


def a_draft(chain, amount="1234.00"):
    return drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal(amount),
        invoices=[chain.invoice("5000.00").pk],
    )


@pytest.fixture
def chain():
    return make_chain()


def test_the_api_shows_a_draft_to_its_applicant_only(chain, api_as):
    draft = a_draft(chain)
    submitted = submit_request(chain, [chain.invoice("8000.00")], "7000.00", screen=False)
    applicant = api_as(chain.supplier_maker, chain.supplier)
    assert {row["id"] for row in applicant.get(REQUESTS).json()["results"]} == {
        draft.pk,
        submitted.pk,
    }
    assert applicant.get(f"{REQUESTS}{draft.pk}/").status_code == 200
    for user, organization in (
        (chain.bank_checker, chain.bank),
        (chain.core_checker, chain.core),
    ):
        client = api_as(user, organization)
        body = client.get(REQUESTS).json()
        assert [row["id"] for row in body["results"]] == [submitted.pk]
        assert body["count"] == 1
        assert client.get(f"{REQUESTS}{draft.pk}/").status_code == 404
        assert client.get(REQUESTS, {"status": "draft"}).json()["count"] == 0


def test_the_portal_shows_a_draft_to_its_applicant_only(chain):
    draft = a_draft(chain, "1234.00")
    applicant = client_for(chain.supplier_maker)
    assert "1,234.00" in text(applicant.get("/portal/requests/"))
    assert applicant.get(f"/portal/requests/{draft.pk}/").status_code == 200
    for user in (chain.bank_checker, chain.core_checker):
        client = client_for(user)
        assert "1,234.00" not in text(client.get("/portal/requests/"))
        assert client.get(f"/portal/requests/{draft.pk}/").status_code == 404
    portfolio = text(client_for(chain.bank_checker).get("/portal/portfolio/"))
    assert "Draft" not in portfolio and "1,234.00" not in portfolio


def test_row_level_security_keeps_a_draft_from_the_bank_and_the_core(chain):
    draft = a_draft(chain)
    submitted = submit_request(chain, [chain.invoice("8000.00")], "7000.00", screen=False)

    def seen(organization, sql="SELECT id FROM financing_financingrequest") -> set[int]:
        # A raw query as the application role: only the policy stands in the way.
        with scope_activated(Scope(organization_id=organization.pk)), connection.cursor() as c:
            c.execute(sql)
            return {row[0] for row in c.fetchall()}

    assert seen(chain.supplier) == {draft.pk, submitted.pk}
    assert seen(chain.bank) == {submitted.pk}
    assert seen(chain.core) == {submitted.pk}
    # Nor the draft's collateral.
    holds = "SELECT DISTINCT request_id FROM receivables_receivablehold"
    assert seen(chain.supplier, holds) == {draft.pk, submitted.pk}
    assert seen(chain.bank, holds) == {submitted.pk}
    assert seen(chain.core, holds) == {submitted.pk}
    # Nor can the bank write to it.
    with scope_activated(Scope(organization_id=chain.bank.pk)):
        assert FinancingRequest.objects.filter(pk=draft.pk).update(screening={"x": 1}) == 0
    # The invoices of a draft stay the supplier's and its buyer's: the bank sees only those
    # of the submitted request.
    with scope_activated(Scope(organization_id=chain.bank.pk)):
        assert set(Invoice.objects.values_list("pk", flat=True)) == set(
            submitted.receivable_holds.values_list("invoice_id", flat=True)
        )


def test_once_submitted_the_bank_sees_it(chain, api_as):
    draft = a_draft(chain)
    drafting.financing_request_submit(
        request_id=draft.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    response = api_as(chain.bank_checker, chain.bank).get(f"{REQUESTS}{draft.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
