"""The operator's admin changes no status behind its service's back: an organization is
suspended or reinstated by an action that records the change in the ledger, and a trade link is
made only through its service (the admin shows links, never adds, edits or deletes one)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ledger.models import LedgerEntry
from tests.factories import OrganizationFactory
from tests.financing.factories import make_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    root = get_user_model().objects.create_superuser("root", "r@example.com", "pw-123456789")
    client = Client()
    client.force_login(root)
    return client


def leaves(kind: str) -> list[dict]:
    return [json.loads(bytes(entry.leaf)) for entry in LedgerEntry.objects.filter(kind=kind)]


def test_suspending_and_reinstating_an_organization_is_recorded(operator):
    organization = OrganizationFactory()
    url = "/admin/scf_platform/organization/"
    for action, status in (("suspend", "suspended"), ("reinstate", "active")):
        response = operator.post(url, {"action": action, "_selected_action": [organization.pk]})
        assert response.status_code == 302
        organization.refresh_from_db()
        assert organization.status == status
        [leaf] = leaves(f"organization.{status}")
        assert leaf["subject"] == f"organization:{organization.pk}"
        assert leaf["parties"] == [organization.pk]
        assert leaf["payload"]["status"] == status
    # Again: nothing changes, nothing more is recorded.
    operator.post(url, {"action": "reinstate", "_selected_action": [organization.pk]})
    assert len(leaves("organization.active")) == 1


def test_the_change_form_does_not_set_the_status(operator):
    organization = OrganizationFactory()
    page = operator.get(f"/admin/scf_platform/organization/{organization.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    # Posting a status anyway leaves it as it was.
    form = {"name": organization.name, "kind": organization.kind, "status": "suspended"}
    form |= {"credit_code": organization.credit_code, "language": organization.language}
    form |= {
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    form["name"] = "Renamed"
    saved = operator.post(f"/admin/scf_platform/organization/{organization.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    organization.refresh_from_db()
    assert (organization.name, organization.status) == ("Renamed", "active")


def test_the_admin_neither_adds_nor_edits_nor_deletes_trade_links(operator):
    chain = make_chain()
    link = chain.core.links_as_core.get()
    assert operator.get("/admin/suppliers/tradelink/").status_code == 200
    assert operator.get("/admin/suppliers/tradelink/add/").status_code == 403
    assert (
        operator.post(f"/admin/suppliers/tradelink/{link.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    change = operator.post(
        f"/admin/suppliers/tradelink/{link.pk}/change/",
        {
            "core_enterprise": link.core_enterprise_id,
            "counterparty": link.counterparty_id,
            "role": "distributor",
        },
    )
    assert change.status_code == 403
    link.refresh_from_db()
    assert link.role == "supplier"
