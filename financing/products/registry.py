"""The products financing offers, by code: one explicit registry, looked up by the lifecycle,
the API and the portal. A product not here does not exist: no program offers it and no request
is made for it."""

from financing.models import Product
from financing.products.base import FinancingProduct
from financing.products.receivables.product import RECEIVABLES

PRODUCTS: dict[str, FinancingProduct] = {
    RECEIVABLES.code: RECEIVABLES,
}


# (code, label) of the registered products, for forms and serializers.
PRODUCT_CHOICES: list[tuple[str, str]] = [(code, Product(code).label) for code in PRODUCTS]


def product_for(code: str) -> FinancingProduct:
    """The registered product of `code`; KeyError for one that is not."""
    return PRODUCTS[code]


def product_codes() -> list[str]:
    return list(PRODUCTS)


def product_choices() -> list[tuple[str, str]]:
    return list(PRODUCT_CHOICES)
