"""Pagination of the API's lists: `{"count", "next", "previous", "results"}` by `?page=`, with
`?page_size=` (at most 200); and the paged union of disjoint querysets that the lists split by
party (TenantViewSet.get_queryset_parts) are read through."""

from django.db.models import QuerySet
from rest_framework import pagination

MAX_PAGE_SIZE = 200


class ListPagination(pagination.PageNumberPagination):
    """DRF's page-number pagination (PAGE_SIZE rows a page) with the size chosen by the client.
    A size that is not a positive integer is ignored; one above the maximum is cut to it."""

    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows a page: 50 when left out, at most {MAX_PAGE_SIZE} (a larger number gives "
        f"{MAX_PAGE_SIZE})."
    )
    max_page_size = MAX_PAGE_SIZE


class DisjointUnion:
    """The rows of several disjoint querysets of one model, in their common order, as the
    paginator reads them: `count()` and slices, each one query.

    Each part is read through its own index in the list's order and only as far as the slice
    needs, and PostgreSQL merges the parts (a Merge Append): a page costs the same however many
    rows the parts hold, where one `a OR b` condition would have to sort all of its rows first.
    The parts must not share a row (TenantQuerySet.visible_parts makes them so), and the order
    must be total (end in the primary key) for pages to neither repeat nor skip a row.
    """

    ordered = True

    def __init__(self, parts: list[QuerySet]) -> None:
        if not parts:
            raise ValueError("a union needs at least one part")
        first = parts[0]
        self.ordering = tuple(first.query.order_by or first.model._meta.ordering)
        if not self.ordering:
            raise ValueError(f"{first.model.__name__} rows have no order to merge the parts in")
        self.parts = [part.order_by(*self.ordering) for part in parts]

    def count(self) -> int:
        keys = [part.order_by().values("pk") for part in self.parts]
        if len(keys) == 1:
            return keys[0].count()
        return keys[0].union(*keys[1:], all=True).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list:
        if not isinstance(key, slice) or key.step is not None or key.stop is None:
            raise TypeError("a DisjointUnion is read by slices with an end, as a paginator does")
        start, stop = key.start or 0, key.stop
        if stop <= start:
            return []
        if len(self.parts) == 1:
            return list(self.parts[0][start:stop])
        # No part gives more than `stop` rows to the first `stop` of the union.
        heads = [part[:stop] for part in self.parts]
        union = heads[0].union(*heads[1:], all=True).order_by(*self.ordering)
        return list(union[start:stop])
