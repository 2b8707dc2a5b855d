"""The invoice list over the API as an organization that both sells and buys: pages walk every
invoice it is a party to exactly once, newest first; filters, `count`, `next` and `previous` agree;
`?page_size=` is honoured and capped; no other organization's invoice shows; and the number of
queries does not depend on the page size."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scf_platform.models import Role
from suppliers.models import Invoice, InvoiceSource, InvoiceStatus
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"


def add_invoices(seller, buyer, count, *, actor, prefix, uploaded_every=0, started=None):
    """`count` invoices from `seller` to `buyer`, two created in each second (ties across the
    organizations' invoices are then certain), every `uploaded_every`-th one still uploaded."""
    started = started or timezone.now()
    today = timezone.localdate()
    invoices = Invoice.objects.bulk_create(
        Invoice(
            seller=seller,
            buyer=buyer,
            number=f"{prefix}-{n:04d}",
            issue_date=today,
            due_date=today + timedelta(days=30 + n % 60),
            currency="CNY",
            amount=Decimal("1000.00") + n,
            status=(
                InvoiceStatus.UPLOADED
                if uploaded_every and n % uploaded_every == 0
                else InvoiceStatus.CONFIRMED
            ),
            source=InvoiceSource.API,
            created_by=actor,
        )
        for n in range(count)
    )
    for n, invoice in enumerate(invoices):
        invoice.created_at = started - timedelta(seconds=n // 2)
    Invoice.objects.bulk_update(invoices, ["created_at"])
    return invoices


@pytest.fixture
def trade():
    """A sells to B and buys from C; B sells to C, which A has no part in."""
    a, b, c = (OrganizationFactory(name=name) for name in ("A", "B", "C"))
    actor = member(a, Role.MAKER)
    started = timezone.now()
    sold = add_invoices(a, b, 23, actor=actor, prefix="AB", uploaded_every=4, started=started)
    bought = add_invoices(c, a, 17, actor=actor, prefix="CA", uploaded_every=3, started=started)
    elsewhere = add_invoices(b, c, 11, actor=actor, prefix="BC", started=started)
    return {
        "a": a,
        "b": b,
        "c": c,
        "viewer_a": member(a, Role.VIEWER),
        "viewer_c": member(c, Role.VIEWER),
        "sold": sold,
        "bought": bought,
        "elsewhere": elsewhere,
    }


def newest_first(invoices) -> list[int]:
    return [i.pk for i in sorted(invoices, key=lambda i: (i.created_at, i.pk), reverse=True)]


def walk(client, query) -> tuple[list[int], list[dict]]:
    """Every page from the first, following `next`; the ids in order and the pages' bodies."""
    response = client.get(INVOICES, query)
    ids, bodies = [], []
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        bodies.append(body)
        ids += [item["id"] for item in body["results"]]
        if body["next"] is None:
            return ids, bodies
        response = client.get(body["next"])


def test_the_pages_hold_every_invoice_sold_or_bought_once_newest_first(api_as, trade):
    client = api_as(trade["viewer_a"], trade["a"])
    ids, pages = walk(client, {"page_size": 7})
    assert ids == newest_first(trade["sold"] + trade["bought"])
    assert [len(page["results"]) for page in pages] == [7, 7, 7, 7, 7, 5]
    assert {page["count"] for page in pages} == {40}
    assert pages[0]["previous"] is None
    # `previous` leads back to the page before, with the same page size.
    back = client.get(pages[2]["previous"]).json()
    assert back["results"] == pages[1]["results"]


def test_filters_narrow_the_count_and_the_pages_alike(api_as, trade):
    client = api_as(trade["viewer_a"], trade["a"])
    sold, bought = trade["sold"], trade["bought"]
    uploaded = [i for i in sold + bought if i.status == InvoiceStatus.UPLOADED]
    ids, pages = walk(client, {"status": "uploaded", "page_size": 4})
    assert ids == newest_first(uploaded)
    assert pages[0]["count"] == len(uploaded) == 6 + 6
    assert walk(client, {"buyer": trade["a"].pk, "page_size": 5})[0] == newest_first(bought)
    assert walk(client, {"seller": trade["a"].pk, "page_size": 5})[0] == newest_first(sold)
    window = {
        "due_date_after": (timezone.localdate() + timedelta(days=35)).isoformat(),
        "due_date_before": (timezone.localdate() + timedelta(days=40)).isoformat(),
        "page_size": 3,
    }
    in_window = [i for i in sold + bought if 35 <= (i.due_date - timezone.localdate()).days <= 40]
    ids, pages = walk(client, window)
    assert ids == newest_first(in_window)
    assert pages[-1]["count"] == len(in_window) > 3
    # A filter naming another organization's trade finds nothing, however it is combined.
    nothing = client.get(INVOICES, {"seller": trade["b"].pk, "buyer": trade["c"].pk}).json()
    assert (nothing["count"], nothing["results"]) == (0, [])


def test_no_invoice_of_a_trade_the_organization_is_not_party_to(api_as, trade):
    as_c = api_as(trade["viewer_c"], trade["c"])
    ids, pages = walk(as_c, {"page_size": 200})
    assert ids == newest_first(trade["bought"] + trade["elsewhere"])
    assert pages[0]["count"] == 17 + 11
    assert not set(ids) & {i.pk for i in trade["sold"]}
    sold_by_a = trade["sold"][0].pk
    assert as_c.get(f"{INVOICES}{sold_by_a}/").status_code == 404


def test_page_size_is_honoured_up_to_two_hundred(api_as, trade):
    a, b = trade["a"], trade["b"]
    add_invoices(a, b, 190, actor=trade["viewer_a"], prefix="MORE")
    client = api_as(trade["viewer_a"], a)

    def page(query):
        body = client.get(INVOICES, query).json()
        return body["count"], len(body["results"]), body["next"] is not None

    assert page({}) == (230, 50, True)
    assert page({"page_size": 10}) == (230, 10, True)
    assert page({"page_size": 200}) == (230, 200, True)
    assert page({"page_size": 1000}) == (230, 200, True)
    assert page({"page_size": 1000, "page": 2}) == (230, 30, False)
    # Not a positive integer: the default size, not an error.
    for nonsense in ("0", "-5", "many"):
        assert page({"page_size": nonsense}) == (230, 50, True)
    assert client.get(INVOICES, {"page": 99}).status_code == 404


def test_the_number_of_queries_does_not_grow_with_the_page_size(api_as, trade):
    a, b, c = trade["a"], trade["b"], trade["c"]
    add_invoices(a, b, 120, actor=trade["viewer_a"], prefix="MORE-AB")
    add_invoices(c, a, 120, actor=trade["viewer_a"], prefix="MORE-CA")
    client = api_as(trade["viewer_a"], a)
    counted = {}
    for size in (10, 100):
        client.get(INVOICES, {"page_size": size})
        with CaptureQueriesContext(connection) as queries:
            body = client.get(INVOICES, {"page_size": size}).json()
        assert len(body["results"]) == size
        counted[size] = len(queries)
    assert counted[10] == counted[100]


def test_the_schema_documents_page_and_page_size(api_as):
    schema = api_as(member(OrganizationFactory(), Role.VIEWER)).get(
        "/api/schema/", {"format": "json"}
    )
    assert schema.status_code == 200
    listing = schema.json()["paths"][INVOICES]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert parameters["page"]["schema"]["type"] == "integer"
    assert "at most 200" in parameters["page_size"]["description"]
    page = schema.json()["components"]["schemas"]["PaginatedInvoiceList"]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
