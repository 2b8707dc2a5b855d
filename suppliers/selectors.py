"""Reads of the supply chain."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet

from scf_platform.bulk_sql import array_literal
from scf_platform.models import Organization
from suppliers.models import Invoice, LinkRole, TradeLink


def link_counterparty_ids(organization: Organization) -> QuerySet:
    """Ids of the organizations linked to `organization` in either direction."""
    as_core = TradeLink.objects.filter(core_enterprise=organization).values("counterparty_id")
    as_counterparty = TradeLink.objects.filter(counterparty=organization).values(
        "core_enterprise_id"
    )
    return Organization.objects.filter(Q(pk__in=as_core) | Q(pk__in=as_counterparty)).values("pk")


def organization_is_core_enterprise(organization: Organization) -> bool:
    return TradeLink.objects.filter(core_enterprise=organization).exists()


def buyers_supplied(*, seller: Organization, buyer_ids: Iterable[int]) -> set[int]:
    """Of these buyers, the ones the seller supplies: a supplier link from the buyer (a core
    enterprise) to the seller."""
    return set(
        TradeLink.objects.filter(
            core_enterprise_id__in=set(buyer_ids), counterparty=seller, role=LinkRole.SUPPLIER
        ).values_list("core_enterprise_id", flat=True)
    )


def numbers_uploaded(*, seller: Organization, numbers: Iterable[str]) -> set[str]:
    """Of these invoice numbers, the ones the seller already uploaded (any number of them)."""
    # One array parameter: a list of thousands of values costs more to plan than to run.
    with connection.cursor() as cursor:
        cursor.execute(_NUMBERS_UPLOADED, [seller.pk, array_literal(sorted(set(numbers)))])
        return {number for (number,) in cursor.fetchall()}


_NUMBERS_UPLOADED = (
    "SELECT number FROM suppliers_invoice WHERE seller_id = %s AND number = ANY(%s::text[])"
)


def invoice_list(*, organization: Organization) -> QuerySet:
    return Invoice.objects.visible_to(organization).select_related("seller", "buyer")
