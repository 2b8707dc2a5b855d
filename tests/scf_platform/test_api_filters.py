"""The tenant lists' filter backend: a request naming only its page answers what the FilterSet
would have answered, without one; any other parameter goes through the FilterSet, and so does a
FilterSet that would answer otherwise (a required filter, a filtering of its own)."""

from types import SimpleNamespace

import pytest
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from scf_platform.api.filters import ListFilterBackend
from scf_platform.api.pagination import ListPagination
from scf_platform.models import Role
from suppliers.api.views import InvoiceFilter
from suppliers.models import Invoice, InvoiceStatus
from tests.factories import OrganizationFactory, member
from tests.suppliers.test_api_invoice_list import add_invoices

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything():
    """Invoices of one trade, every third one still uploaded."""
    seller, buyer = OrganizationFactory(), OrganizationFactory()
    add_invoices(seller, buyer, 12, actor=member(seller, Role.MAKER), prefix="F", uploaded_every=3)
    return Invoice.objects.order_by("pk")


def request(**query) -> Request:
    return Request(APIRequestFactory().get("/api/v1/invoices/", query))


def view(filterset_class) -> SimpleNamespace:
    return SimpleNamespace(paginator=ListPagination(), filterset_class=filterset_class)


def ids(queryset) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def test_a_page_alone_is_not_filtered_and_builds_no_filterset(everything, monkeypatch):
    built = []
    monkeypatch.setattr(InvoiceFilter, "__init__", lambda *a, **k: built.append(a))
    for query in ({}, {"page": "2"}, {"page_size": "5", "page": "1"}):
        filtered = ListFilterBackend().filter_queryset(
            request(**query), everything, view(InvoiceFilter)
        )
        assert ids(filtered) == ids(everything)
    assert built == []


def test_a_filter_or_any_other_parameter_goes_through_the_filterset(everything):
    backend = ListFilterBackend()
    uploaded = backend.filter_queryset(
        request(status="uploaded", page_size="5"), everything, view(InvoiceFilter)
    )
    assert ids(uploaded) == ids(everything.filter(status=InvoiceStatus.UPLOADED))
    assert 0 < len(ids(uploaded)) < len(ids(everything))
    with pytest.raises(ValidationError):
        backend.filter_queryset(request(status="bogus"), everything, view(InvoiceFilter))
    # Not a filter of this list: the FilterSet runs, ignores it and filters nothing.
    assert ids(backend.filter_queryset(request(foo="1"), everything, view(InvoiceFilter))) == ids(
        everything
    )


class RequiredStatus(filters.FilterSet):
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices, required=True)

    class Meta:
        model = Invoice
        fields = ["status"]


class OnlyUploaded(filters.FilterSet):
    class Meta:
        model = Invoice
        fields = ["buyer"]

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).filter(status=InvoiceStatus.UPLOADED)


def test_a_filterset_that_answers_otherwise_without_parameters_still_runs(everything):
    backend = ListFilterBackend()
    with pytest.raises(ValidationError):
        backend.filter_queryset(request(page="1"), everything, view(RequiredStatus))
    assert ids(backend.filter_queryset(request(page="1"), everything, view(OnlyUploaded))) == ids(
        everything.filter(status=InvoiceStatus.UPLOADED)
    )
