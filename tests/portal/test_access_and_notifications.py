"""What every portal page owes: outsiders get 404 on every detail URL (nothing leaks, nothing
changes), CSRF on every form, sign-in required; lists paginate and filter; notifications with
an unread count."""

import re

import pytest
from django.test import Client

from financing.models import FinancingRequest, RequestStatus
from scf_platform.models import Role
from suppliers.models import Invoice, InvoiceStatus
from tests.factories import member
from tests.financing.factories import today
from tests.portal.conftest import approved, client_for, disbursed, submitted, text

pytestmark = pytest.mark.django_db

REQUEST_URLS = [
    "/portal/requests/{id}/",
    "/portal/requests/{id}/submit/",
    "/portal/requests/{id}/withdraw/",
    "/portal/requests/{id}/approve/",
    "/portal/requests/{id}/reject/",
    "/portal/requests/{id}/disburse/",
    "/portal/requests/{id}/repay/",
]
INVOICE_URLS = ["/portal/invoices/{id}/", "/portal/invoices/{id}/dispute/"]
PROGRAM_URLS = ["/portal/programs/{id}/"]
ACTION_DATA = {
    "confirmed": "1",
    "reason": "because",
    "comment": "ok",
    "value_date": "",
    "amount": "1.00",
    "paid_on": "",
}


@pytest.fixture
def outsiders(other_chain):
    return {
        "supplier": other_chain.supplier_admin,
        "core enterprise": member(other_chain.core, Role.ADMIN),
        "bank": other_chain.bank_admin,
    }


@pytest.mark.parametrize("who", ["supplier", "core enterprise", "bank"])
def test_every_request_url_is_not_found_for_an_outsider(chain, outsiders, who):
    in_review = submitted(chain, [chain.invoice("100000.00", number="SECRET-1")], "90000.00")
    financed = disbursed(chain, "9000.00")
    client = client_for(outsiders[who])
    data = {**ACTION_DATA, "value_date": today().isoformat(), "paid_on": today().isoformat()}
    for request in (in_review, financed):
        for url in REQUEST_URLS:
            url = url.format(id=request.pk)
            get, post = client.get(url), client.post(url, data)
            assert (get.status_code, post.status_code) == (404, 404), url
            assert "Not found" in text(get) and "Net proceeds" not in text(get)
            assert "SECRET-1" not in get.content.decode()
    in_review.refresh_from_db()
    financed.refresh_from_db()
    assert (in_review.status, financed.status) == (RequestStatus.IN_REVIEW, "disbursed")
    assert not in_review.approvals.exists()


@pytest.mark.parametrize("who", ["supplier", "core enterprise", "bank"])
def test_every_invoice_and_program_url_is_not_found_for_an_outsider(chain, outsiders, who):
    invoice = chain.invoice("100.00", confirm=False)
    client = client_for(outsiders[who])
    for url in INVOICE_URLS:
        url = url.format(id=invoice.pk)
        assert client.get(url).status_code == 404, url
        assert client.post(url, ACTION_DATA).status_code == 404, url
    response = client.get("/portal/payables/confirm/", {"invoice": invoice.pk})
    assert response.status_code == 404
    for url in PROGRAM_URLS:
        assert client.get(url.format(id=chain.program.pk)).status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UPLOADED


def test_lists_never_show_another_organization_s_rows(chain, other_chain):
    mine = submitted(chain, [chain.invoice("100000.00", number="MINE-1")], "90000.00")
    theirs = submitted(
        other_chain, [other_chain.invoice("100000.00", number="THEIRS-1")], "90000.00"
    )
    for user in (chain.supplier_maker, chain.core_checker, chain.bank_checker):
        page = client_for(user).get("/portal/requests/").content.decode()
        assert f">#{mine.pk}<" in page and f">#{theirs.pk}<" not in page
    assert "THEIRS-1" not in text(client_for(chain.supplier_maker).get("/portal/invoices/"))
    assert f"#{theirs.pk}" not in text(client_for(chain.bank_checker).get("/portal/queue/"))
    assert "Other Program" not in text(client_for(chain.core_checker).get("/portal/programs/"))


def test_an_anonymous_visitor_is_sent_to_sign_in(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    for url in (
        "/portal/invoices/",
        "/portal/apply/",
        "/portal/queue/",
        f"/portal/requests/{request.pk}/",
        "/portal/notifications/",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_every_action_refuses_a_post_without_the_csrf_token(chain):
    request = approved(chain)
    uploaded = chain.invoice("100.00", confirm=False)
    in_review = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    posts = [
        (chain.supplier_maker, "/portal/invoices/new/", {"number": "X", "confirmed": "1"}),
        (chain.supplier_maker, "/portal/invoices/upload/", {}),
        (chain.supplier_maker, "/portal/apply/confirm/", {"confirmed": "1"}),
        (chain.supplier_maker, f"/portal/requests/{in_review.pk}/withdraw/", {"confirmed": "1"}),
        (
            chain.core_checker,
            "/portal/payables/confirm/",
            {"invoice": uploaded.pk, "confirmed": "1"},
        ),
        (chain.core_checker, f"/portal/invoices/{uploaded.pk}/dispute/", {"reason": "x"}),
        (chain.core_checker, "/portal/participants/new/", {"confirmed": "1"}),
        (chain.core_checker, f"/portal/requests/{request.pk}/repay/", {"confirmed": "1"}),
        (chain.bank_checker, f"/portal/requests/{in_review.pk}/approve/", {}),
        (chain.bank_checker, f"/portal/requests/{in_review.pk}/reject/", {"reason": "x"}),
        (chain.bank_checker, f"/portal/requests/{request.pk}/disburse/", {"confirmed": "1"}),
        (chain.bank_checker, "/portal/programs/new/", {"confirmed": "1"}),
        (chain.bank_checker, "/portal/notifications/", {}),
    ]
    for user, url, data in posts:
        response = client_for(user, csrf=True).post(url, data)
        assert response.status_code == 403, url
    uploaded.refresh_from_db()
    in_review.refresh_from_db()
    request.refresh_from_db()
    assert uploaded.status == InvoiceStatus.UPLOADED
    assert in_review.status == RequestStatus.IN_REVIEW and request.status == RequestStatus.APPROVED


def test_every_post_form_carries_the_csrf_token(chain):
    request = approved(chain)
    uploaded = chain.invoice("100.00", confirm=False)
    pages = [
        (chain.supplier_maker, "/portal/invoices/new/"),
        (chain.supplier_maker, "/portal/invoices/upload/"),
        (chain.core_checker, "/portal/payables/"),
        (chain.core_checker, f"/portal/invoices/{uploaded.pk}/dispute/"),
        (chain.core_checker, "/portal/participants/new/"),
        (chain.bank_checker, f"/portal/requests/{request.pk}/disburse/"),
        (chain.bank_checker, "/portal/programs/new/"),
        (chain.core_checker, f"/portal/payables/confirm/?invoice={uploaded.pk}"),
    ]
    for user, url in pages:
        body = client_for(user).get(url).content.decode()
        forms = re.findall(r'<form method="post".*?</form>', body, flags=re.S)
        assert forms, url
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form, url


def test_the_request_list_filters_and_paginates(chain):
    # Screened before the others are submitted: screening takes the waiting ones with it.
    first = chain.invoice("1000.00", number="L-SCREENED")
    screened = submitted(chain, [first], "100.00")
    invoices = [chain.invoice("1000.00", number=f"L-{n:02d}") for n in range(27)]
    for invoice in invoices:
        submitted(chain, [invoice], "100.00", screen=False)
    client = client_for(chain.bank_checker)
    page = text(client.get("/portal/requests/"))
    assert "Page 1 of 2" in page
    page = client.get("/portal/requests/", {"status": "in_review"}).content.decode()
    assert re.findall(r'href="/portal/requests/(\d+)/"', page) == [str(screened.pk)]
    assert FinancingRequest.objects.filter(status=RequestStatus.SUBMITTED).count() == 27


def test_notifications_have_an_unread_count_and_can_be_marked_read(chain):
    invoice = chain.invoice("100.00", number="NOTE-1")  # the buyer confirms: the seller is told
    client = client_for(chain.supplier_maker)
    home = client.get("/portal/").content.decode()
    assert 'aria-label="Notifications, 1 unread"' in home
    page = client.get("/portal/notifications/").content.decode()
    assert "Invoice NOTE-1 was confirmed by Core" in page
    assert f'href="/portal/invoices/{invoice.pk}/"' in page
    assert 'class="unread"' in page
    response = client.post("/portal/notifications/", follow=True)
    assert "All notifications are marked read." in text(response)
    assert 'aria-label="Notifications, 0 unread"' in response.content.decode()
    assert "NOTE-1" not in text(client.get("/portal/notifications/", {"unread": "1"}))
    # Another member of the same organization still has it unread.
    other = client_for(chain.supplier_admin).get("/portal/").content.decode()
    assert 'aria-label="Notifications, 1 unread"' in other


def test_notifications_meant_for_checkers_are_not_shown_to_makers(chain):
    submitted(chain, [chain.invoice("100000.00")], "90000.00")  # the bank's checkers are told
    checker = client_for(chain.bank_checker).get("/portal/notifications/")
    maker = client_for(chain.bank_maker).get("/portal/notifications/")
    assert "A request waits for review" in text(checker)
    assert "A request waits for review" not in text(maker)


def test_an_invoice_is_linked_from_the_notification_and_its_page_shows_history(chain):
    invoice = chain.invoice("100.00", number="HIST-1")
    page = text(client_for(chain.supplier_maker).get(f"/portal/invoices/{invoice.pk}/"))
    assert "Uploaded" in page and "Confirmed" in page and "HIST-1" in page
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.CONFIRMED
