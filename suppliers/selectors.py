"""Reads of the supply chain."""

from django.db.models import Q, QuerySet

from scf_platform.models import Organization
from suppliers.models import Invoice, TradeLink


def link_counterparty_ids(organization: Organization) -> QuerySet:
    """Ids of the organizations linked to `organization` in either direction."""
    as_core = TradeLink.objects.filter(core_enterprise=organization).values("counterparty_id")
    as_counterparty = TradeLink.objects.filter(counterparty=organization).values(
        "core_enterprise_id"
    )
    return Organization.objects.filter(Q(pk__in=as_core) | Q(pk__in=as_counterparty)).values("pk")


def organization_is_core_enterprise(organization: Organization) -> bool:
    return TradeLink.objects.filter(core_enterprise=organization).exists()


def trade_link_exists(*, seller: Organization, buyer: Organization) -> bool:
    """The seller supplies the buyer (a core enterprise) under a supplier link."""
    return TradeLink.objects.filter(
        core_enterprise=buyer, counterparty=seller, role="supplier"
    ).exists()


def invoice_list(*, organization: Organization) -> QuerySet:
    return Invoice.objects.visible_to(organization).select_related("seller", "buyer")
