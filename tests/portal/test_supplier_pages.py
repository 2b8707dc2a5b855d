"""The SME (supplier) portal: dashboard, invoices (list, add, upload), who may do what."""

from datetime import timedelta

import pytest

from scf_platform.models import Role
from suppliers.models import Invoice, InvoiceSource, InvoiceStatus
from tests.factories import member
from tests.financing.factories import today
from tests.portal.conftest import client_for, disbursed, h1, submitted, text

pytestmark = pytest.mark.django_db


def invoice_data(chain, **overrides):
    data = {
        "number": "INV-PORTAL-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=45)).isoformat(),
        "currency": "CNY",
        "amount": "12345.67",
    }
    data.update(overrides)
    return data


def test_dashboard_shows_financed_pending_and_the_limit_per_program(chain):
    chain.participant.limit = 200000
    chain.participant.save()
    disbursed(chain, "90000.00")
    submitted(chain, [chain.invoice("50000.00")], "40000.00")
    page = text(client_for(chain.supplier_maker).get("/portal/"))
    assert "Financed 90,000.00 CNY 1 request" in page
    assert "Pending 40,000.00 CNY 1 request" in page
    # Sub-limit 200,000 with 130,000 used: 70,000 left, less than what the program has left.
    assert "200,000.00 CNY 130,000.00 CNY 70,000.00 CNY" in page
    assert "9,870,000.00 CNY" in page  # the program's available limit


def test_invoice_list_filters_by_status_and_due_date_and_flags_long_terms(chain, as_user):
    long = chain.invoice("1000.00", days=80, number="LONG-1", issued=today())
    chain.invoice("2000.00", days=30, number="SHORT-1", confirm=False)
    client = as_user(chain.supplier_maker)
    page = text(client.get("/portal/invoices/"))
    assert "LONG-1" in page and "SHORT-1" in page
    assert "80-day term" in page  # over 60 days: flagged
    assert "30-day term" not in page
    page = text(client.get("/portal/invoices/", {"status": "uploaded"}))
    assert "SHORT-1" in page and "LONG-1" not in page
    due_from = (today() + timedelta(days=60)).isoformat()
    page = text(client.get("/portal/invoices/", {"due_from": due_from}))
    assert "LONG-1" in page and "SHORT-1" not in page
    assert long.exceeds_sme_payment_term


def test_invoice_list_paginates_by_25(chain, as_user):
    for n in range(27):
        chain.invoice("10.00", number=f"P-{n:03d}", confirm=False)
    client = as_user(chain.supplier_maker)
    first = client.get("/portal/invoices/").content.decode()
    assert first.count('href="/portal/invoices/') - first.count("/portal/invoices/new/") >= 25
    assert "Page 1 of 2" in text(client.get("/portal/invoices/"))
    second = text(client.get("/portal/invoices/", {"page": 2}))
    assert "Page 2 of 2" in second and "P-000" in second and "P-026" not in second


def test_adding_an_invoice_asks_for_confirmation_then_creates_it(chain, as_user):
    client = as_user(chain.supplier_maker)
    assert client.get("/portal/invoices/new/").status_code == 200
    response = client.post("/portal/invoices/new/", invoice_data(chain))
    assert h1(response) == "Add this invoice?"
    assert "12,345.67 CNY" in text(response)
    assert not Invoice.objects.filter(number="INV-PORTAL-1").exists()
    response = client.post(
        "/portal/invoices/new/", {**invoice_data(chain), "confirmed": "1"}, follow=True
    )
    invoice = Invoice.objects.get(number="INV-PORTAL-1")
    assert invoice.source == InvoiceSource.PORTAL and invoice.status == InvoiceStatus.UPLOADED
    assert response.redirect_chain[-1][0] == f"/portal/invoices/{invoice.pk}/"
    assert "Invoice INV-PORTAL-1 was added" in text(response)


def test_a_long_term_is_flagged_on_the_confirmation(chain, as_user):
    data = invoice_data(chain, due_date=(today() + timedelta(days=90)).isoformat())
    response = as_user(chain.supplier_maker).post("/portal/invoices/new/", data)
    assert "The payment term is 90 days" in text(response)


def test_field_errors_are_shown_next_to_the_field_and_the_input_is_kept(chain, as_user):
    client = as_user(chain.supplier_maker)
    bad_dates = invoice_data(chain, due_date=(today() - timedelta(days=3)).isoformat())
    chain.invoice("10.00", number="TAKEN-1", confirm=False)
    # The form accepts these; the service refuses them: its errors land next to the fields.
    response = client.post(
        "/portal/invoices/new/", {**bad_dates, "number": "TAKEN-1", "confirmed": "1"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_due_date-error"' in body and "The due date is before the issue date" in body
    assert 'id="id_number-error"' in body and "You already uploaded an invoice numbered" in body
    assert 'value="TAKEN-1"' in body and 'value="12345.67"' in body
    response = client.post("/portal/invoices/new/", invoice_data(chain, amount="12.345"))
    assert 'id="id_amount-error"' in response.content.decode()
    assert 'value="INV-PORTAL-1"' in response.content.decode()


def test_only_the_seller_s_buyers_can_be_chosen(chain, other_chain, as_user):
    response = as_user(chain.supplier_maker).post(
        "/portal/invoices/new/", invoice_data(chain, buyer=other_chain.core.pk)
    )
    assert 'id="id_buyer-error"' in response.content.decode()


def test_upload_reports_each_row(chain, as_user):
    good_due = (today() + timedelta(days=40)).isoformat()
    csv = (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"CSV-1,{chain.core.credit_code},{today().isoformat()},{good_due},CNY,1000.00\n"
        f"CSV-2,{chain.core.credit_code},{today().isoformat()},{good_due},CNY,-5\n"
        f"CSV-3,{chain.core.credit_code},{today().isoformat()},{good_due},CNY,2500.50\n"
    ).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("batch.csv", csv, content_type="text/csv")
    client = as_user(chain.supplier_maker)
    response = client.post(
        "/portal/invoices/upload/", {"file": upload, "genuine": "on"}, follow=True
    )
    page = text(response)
    assert "2 invoices landed." in page and "1 row was rejected." in page
    assert "CSV-1" in page and "CSV-3" in page
    rejected = response.content.decode().split('class="bad-row"')[1]
    assert "<td>2</td>" in rejected and "amount" in rejected
    assert set(Invoice.objects.filter(seller=chain.supplier).values_list("number", flat=True)) == {
        "CSV-1",
        "CSV-3",
    }


def test_a_large_upload_names_the_first_landed_invoices_and_counts_the_rest(
    chain, as_user, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from suppliers import views

    good_due = (today() + timedelta(days=40)).isoformat()
    rows = "".join(
        f"BIG-{n:03d},{chain.core.credit_code},{today().isoformat()},{good_due},CNY,100.00\n"
        for n in range(views.LANDED_SHOWN + 5)
    )
    csv = ("number,buyer_credit_code,issue_date,due_date,currency,amount\n" + rows).encode()
    upload = SimpleUploadedFile("big.csv", csv, content_type="text/csv")
    response = as_user(chain.supplier_maker).post(
        "/portal/invoices/upload/", {"file": upload, "genuine": "on"}, follow=True
    )
    page = text(response)
    assert f"{views.LANDED_SHOWN + 5} invoices landed." in page
    assert response.content.decode().count('class="ok-row"') == views.LANDED_SHOWN
    assert (
        'And 5 more invoices: see <a href="/portal/invoices/">your invoices</a>.'
        in response.content.decode()
    )
    assert Invoice.objects.filter(seller=chain.supplier).count() == views.LANDED_SHOWN + 5


def test_upload_needs_the_confirmation_box_and_reports_an_unreadable_file(chain, as_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(chain.supplier_maker)
    upload = SimpleUploadedFile("x.csv", b"number,buyer\n1,2\n")
    response = client.post("/portal/invoices/upload/", {"file": upload})
    assert "field-error" in response.content.decode()
    assert not Invoice.objects.exists()
    upload = SimpleUploadedFile("x.csv", b"hello,world\n1,2\n")
    response = client.post("/portal/invoices/upload/", {"file": upload, "genuine": "on"})
    assert 'id="id_file-error"' in response.content.decode()
    assert not Invoice.objects.exists()


def test_a_viewer_may_look_but_not_add_or_upload(chain, as_user):
    viewer = member(chain.supplier, Role.VIEWER)
    client = as_user(viewer)
    assert client.get("/portal/invoices/").status_code == 200
    assert "Add an invoice" not in text(client.get("/portal/invoices/"))
    assert client.get("/portal/invoices/new/").status_code == 403
    assert client.post("/portal/invoices/new/", invoice_data(chain)).status_code == 403
    assert client.get("/portal/invoices/upload/").status_code == 403
    # A checker of the supplier confirms payables elsewhere, but does not add invoices.
    assert (
        as_user(member(chain.supplier, Role.CHECKER)).get("/portal/invoices/new/").status_code
        == 403
    )


def test_an_outsider_gets_404_for_an_invoice(chain, other_chain, as_user):
    invoice = chain.invoice("100.00")
    assert as_user(chain.supplier_maker).get(f"/portal/invoices/{invoice.pk}/").status_code == 200
    assert as_user(chain.core_checker).get(f"/portal/invoices/{invoice.pk}/").status_code == 200
    for outsider in (other_chain.supplier_maker, other_chain.core_checker, chain.bank_checker):
        response = as_user(outsider).get(f"/portal/invoices/{invoice.pk}/")
        assert response.status_code == 404
        assert invoice.number not in response.content.decode()


def test_bank_pages_are_not_found_in_the_sme_portal(chain, as_user):
    client = as_user(chain.supplier_maker)
    for url in ("/portal/queue/", "/portal/portfolio/", "/portal/programs/new/"):
        assert client.get(url).status_code == 404
