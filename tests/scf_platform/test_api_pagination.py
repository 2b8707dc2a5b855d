"""Pagination of every API list (`?page_size=`, capped) and the per-party split the invoice list
reads through: the parts of a tenant queryset are disjoint and add up to exactly what
visible_to() gives, and a viewset cannot replace that scoping."""

import pytest

from scf_platform.api.views import TenantViewSet
from scf_platform.models import Role
from suppliers.models import LinkRole, TradeLink
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def links():
    """A core enterprise with twelve suppliers; one of them also supplies another core."""
    core, other_core = OrganizationFactory(name="Core"), OrganizationFactory(name="Other core")
    suppliers = [OrganizationFactory(name=f"Supplier {n:02d}") for n in range(12)]
    for supplier in suppliers:
        TradeLink.objects.create(
            core_enterprise=core, counterparty=supplier, role=LinkRole.SUPPLIER
        )
    TradeLink.objects.create(
        core_enterprise=other_core, counterparty=suppliers[0], role=LinkRole.SUPPLIER
    )
    # The core also distributes for the other core: a link where it is the counterparty.
    TradeLink.objects.create(
        core_enterprise=other_core, counterparty=core, role=LinkRole.DISTRIBUTOR
    )
    return core, other_core, suppliers


def test_other_lists_take_page_size_too(api_as, links):
    core = links[0]
    client = api_as(member(core, Role.VIEWER), core)
    body = client.get("/api/v1/trade-links/", {"page_size": 5}).json()
    assert (body["count"], len(body["results"])) == (13, 5)
    assert "page_size=5" in body["next"]
    assert len(client.get("/api/v1/trade-links/").json()["results"]) == 13


def test_the_parts_are_disjoint_and_add_up_to_what_is_visible(links):
    core, other_core, suppliers = links
    for organization in (core, other_core, suppliers[0], suppliers[5]):
        visible = set(TradeLink.objects.visible_to(organization).values_list("pk", flat=True))
        parts = [
            set(part.values_list("pk", flat=True))
            for part in TradeLink.objects.visible_parts(organization)
        ]
        assert len(parts) == 2
        assert parts[0].isdisjoint(parts[1])
        assert parts[0] | parts[1] == visible
    assert [part.count() for part in TradeLink.objects.visible_parts(core)] == [12, 1]
    assert [part.count() for part in TradeLink.objects.visible_parts(None)] == [0]


def test_a_viewset_cannot_replace_the_scoping_of_the_parts():
    with pytest.raises(TypeError, match="get_queryset_parts"):

        class Sneaky(TenantViewSet):
            def get_queryset_parts(self):
                return []


def test_where_party_takes_only_a_tenant_party(links):
    core = links[0]
    assert TradeLink.objects.where_party("core_enterprise", core).count() == 12
    assert TradeLink.objects.where_party("counterparty", core).count() == 1
    assert TradeLink.objects.where_party("counterparty", None).count() == 0
    with pytest.raises(ValueError, match="role"):
        TradeLink.objects.where_party("role", core)
