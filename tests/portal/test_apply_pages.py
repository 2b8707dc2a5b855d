"""Applying for receivables financing: choosing invoices, the quote (with and without the
page's script), the confirmation step, submission; the request page as the applicant sees it;
withdrawing."""

from decimal import Decimal

import pytest

from documents.models import Document, DocumentParty
from financing.documents import DocumentKind
from financing.models import FinancingRequest, RequestStatus
from financing.products.receivables.models import ReceivableHold
from financing.services import screening
from financing.services.money import request_quote
from financing.services.programs import participant_add, program_create
from scf_platform.models import Role
from tests.factories import OrganizationFactory, member
from tests.portal.conftest import client_for, h1, submitted, text
from tests.portal.test_one_time_keys import key_of

pytestmark = pytest.mark.django_db


def test_the_apply_page_lists_only_confirmed_free_invoices_of_the_program(chain):
    free = chain.invoice("100000.00", number="FREE-1")
    chain.invoice("5000.00", number="NOT-CONFIRMED", confirm=False)
    held = chain.invoice("7000.00", number="HELD-1")
    submitted(chain, [held], "5000.00")
    page = client_for(chain.supplier_maker).get("/portal/apply/").content.decode()
    assert f'name="invoices" value="{free.pk}"' in page
    assert "NOT-CONFIRMED" not in page and "HELD-1" not in page
    assert "Recalculate quote" in page and "Review and submit" in page


def test_the_cap_note_is_empty_until_there_is_something_to_say(chain):
    # The page's script shows the note's element with whatever it holds; it held "None".
    invoice = chain.invoice("100000.00", days=90)
    client = client_for(chain.supplier_maker)
    params = {"program": chain.program.pk, "invoices": invoice.pk, "recalculate": "1"}
    for page in (client.get("/portal/apply/"), client.get("/portal/apply/", params)):
        assert b'id="quote-note" hidden></p>' in page.content


def test_recalculating_without_javascript_shows_the_quote(chain):
    invoice = chain.invoice("100000.00", days=90)
    client = client_for(chain.supplier_maker)
    params = {"program": chain.program.pk, "invoices": invoice.pk, "recalculate": "1"}
    page = text(client.get("/portal/apply/", params))
    # 90% of 100,000; 90,000 x 4.35% x 90 / 360 = 978.75; APR on the net proceeds 4.46%.
    assert "Advance 90,000.00 CNY" in page
    assert "Discount 978.75 CNY" in page
    assert "Net proceeds 89,021.25 CNY" in page
    assert "Days 90" in page
    assert "4.35%" in page and "APR 4.46%" in page
    page = text(client.get("/portal/apply/", {**params, "requested_amount": "50000.00"}))
    assert "Advance 50,000.00 CNY" in page and "Discount 543.75 CNY" in page
    page = text(client.get("/portal/apply/", {**params, "requested_amount": "95000.00"}))
    assert "Advance 90,000.00 CNY" in page and "lends at most 90,000.00 CNY" in page
    body = client.get("/portal/apply/", {**params, "requested_amount": "95000.00"}).content
    assert b'value="95000.00"' in body  # what was typed stays


def test_the_live_quote_answers_json(chain):
    invoice = chain.invoice("100000.00", days=90)
    client = client_for(chain.supplier_maker)
    response = client.get(
        "/portal/apply/quote/", {"program": chain.program.pk, "invoices": invoice.pk}
    )
    data = response.json()
    assert data["ok"] is True
    assert data["quote"]["net_proceeds"] == "89,021.25 CNY"
    assert data["quote"]["apr"] == "4.46%"
    data = client.get("/portal/apply/quote/", {"program": chain.program.pk}).json()
    assert data["ok"] is False and "invoices" in data["errors"]
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/"})
    data = client.get(
        "/portal/apply/quote/", {"program": chain.program.pk, "invoices": invoice.pk}
    ).json()
    assert data["quote"]["net_proceeds"] == "89,021.25 CNY"
    assert data["quote"]["value_date"].endswith("日")


def test_choosing_nothing_is_an_error_next_to_the_invoices(chain):
    chain.invoice("100000.00")
    response = client_for(chain.supplier_maker).get(
        "/portal/apply/confirm/", {"program": chain.program.pk, "requested_amount": "10.00"}
    )
    body = response.content.decode()
    assert 'id="id_invoices-error"' in body and "Choose at least one confirmed invoice" in body
    assert 'value="10.00"' in body


def test_submitting_asks_first_then_creates_and_submits_the_request(chain):
    a = chain.invoice("60000.00", days=90)
    b = chain.invoice("40000.00", days=60)
    client = client_for(chain.supplier_maker)
    params = {"program": chain.program.pk, "invoices": [a.pk, b.pk], "requested_amount": ""}
    response = client.get("/portal/apply/confirm/", params)
    assert h1(response) == "Submit this financing request?"
    page = text(response)
    assert "Net proceeds 89,021.25 CNY" in page and a.number in page and b.number in page
    assert not FinancingRequest.objects.exists()
    response = client.post("/portal/apply/confirm/", {**params, "confirmed": "1"}, follow=True)
    request = FinancingRequest.objects.get()
    assert request.status == RequestStatus.SUBMITTED
    # Left empty, the amount asked for is the whole advance, which screening accepts.
    assert request.requested_amount == Decimal("90000.00")
    assert (
        screening.financing_request_screen(request_id=request.pk).status == RequestStatus.IN_REVIEW
    )
    assert set(
        ReceivableHold.objects.filter(request=request, active=True).values_list(
            "invoice_id", flat=True
        )
    ) == {a.pk, b.pk}
    assert response.redirect_chain[-1][0] == f"/portal/requests/{request.pk}/"
    assert "it is being screened" in text(response)


def test_asking_for_more_than_the_advance_is_financed_at_the_advance_as_the_api_does(chain):
    """API.md: advance = min(requested, cap). The portal says so before asking, and does not
    refuse what the API accepts."""
    invoice = chain.invoice("100000.00")
    params = {"program": chain.program.pk, "invoices": invoice.pk, "requested_amount": "95000"}
    client = client_for(chain.supplier_maker)
    question = client.get("/portal/apply/confirm/", params)
    assert 'id="id_requested_amount-error"' not in question.content.decode()
    assert "financed at 90,000.00 CNY" in text(question)
    client.post("/portal/apply/confirm/", {**params, "confirmed": "1", "once": key_of(question)})
    request = FinancingRequest.objects.get()
    assert request.requested_amount == Decimal("95000.00")
    assert request_quote(request).advance_amount == Decimal("90000.00")


def test_an_invoice_taken_meanwhile_is_refused_and_nothing_is_created(chain):
    invoice = chain.invoice("100000.00")
    params = {"program": chain.program.pk, "invoices": invoice.pk, "confirmed": "1"}
    submitted(chain, [invoice], "1000.00")  # another request holds it now
    response = client_for(chain.supplier_maker).post("/portal/apply/confirm/", params)
    assert 'id="id_invoices-error"' in response.content.decode()
    assert FinancingRequest.objects.count() == 1


def test_a_viewer_sees_the_quote_but_cannot_submit(chain):
    invoice = chain.invoice("100000.00")
    client = client_for(member(chain.supplier, Role.VIEWER))
    page = client.get("/portal/apply/").content.decode()
    assert "Review and submit" not in page
    params = {"program": chain.program.pk, "invoices": invoice.pk, "confirmed": "1"}
    assert client.post("/portal/apply/confirm/", params).status_code == 403
    assert not FinancingRequest.objects.exists()


def test_with_two_programs_the_invoices_follow_the_chosen_one(chain):
    second_core = OrganizationFactory(name="Second Core")
    program = program_create(
        bank=chain.bank,
        actor=chain.bank_admin,
        name="Second Program",
        core_enterprise=second_core,
        currency="CNY",
        credit_limit=Decimal("1000000.00"),
        advance_rate=Decimal("0.80"),
        annual_rate=Decimal("0.05"),
        max_tenor_days=180,
        dual_approval_threshold=Decimal("500000.00"),
        products=["receivables"],
    )
    participant_add(
        program=program,
        core_enterprise=second_core,
        actor=member(second_core),
        organization=chain.supplier,
        role="supplier",
    )
    first = chain.invoice("100.00", number="FIRST-CORE")
    client = client_for(chain.supplier_maker)
    page = text(client.get("/portal/apply/", {"program": chain.program.pk}))
    assert "FIRST-CORE" in page
    # Switching program with stale invoices in the query starts a fresh choice, no error.
    response = client.get(
        "/portal/apply/",
        {
            "program": program.pk,
            "shown_program": chain.program.pk,
            "invoices": first.pk,
            "recalculate": "1",
        },
    )
    assert "FIRST-CORE" not in text(response) and "field-error" not in response.content.decode()
    assert "Second Core" in text(response)


def test_the_request_page_shows_timeline_screening_and_documents(chain):
    invoice = chain.invoice("100000.00", number="TL-1")
    request = submitted(chain, [invoice], "90000.00")
    page = text(client_for(chain.supplier_maker).get(f"/portal/requests/{request.pk}/"))
    assert "Draft" in page and "Submitted" in page and "In review" in page
    assert "Passed · The invoice is confirmed by the buyer" in page
    assert "Failed" not in page
    assert "Approvals (four eyes)" not in page  # the bank's business
    assert "TL-1" in page and "Confirmed by Core on" in page
    assert "No documents yet." in page
    document = Document.objects.create(
        kind=DocumentKind.FINANCING_AGREEMENT,
        subject_kind="request",
        subject_id=request.pk,
        language="en",
        file="documents/agreement.pdf",
        sha256="ab" * 32,
        size=1000,
    )
    for role, organization in (
        ("applicant", chain.supplier),
        ("bank", chain.bank),
        ("core_enterprise", chain.core),
    ):
        DocumentParty.objects.create(document=document, organization=organization, role=role)
    body = client_for(chain.supplier_maker).get(f"/portal/requests/{request.pk}/").content
    link = f'href="/portal/requests/{request.pk}/documents/financing_agreement.pdf"'
    assert link.encode() in body
    # Another request's page does not list this one's documents.
    other = submitted(chain, [chain.invoice("1000.00")], "900.00")
    body = client_for(chain.supplier_maker).get(f"/portal/requests/{other.pk}/").content
    assert b"financing_agreement.pdf" not in body and b"No documents yet." in body


def test_screening_failures_are_shown_check_by_check(chain):
    invoice = chain.invoice("100000.00", days=90, number="TENOR-9")
    request = submitted(chain, [invoice], "90000.00", screen=False)
    # The bank shortens the tenor while the request waits for screening.
    chain.program.max_tenor_days = 30
    chain.program.save()
    request = screening.financing_request_screen(request_id=request.pk)
    assert request.status == RequestStatus.REJECTED
    page = text(client_for(chain.supplier_maker).get(f"/portal/requests/{request.pk}/"))
    assert "Failed · The invoice falls due within the maximum tenor (TENOR-9)" in page
    assert "Passed · The program is active" in page


def test_withdrawing_asks_first_and_frees_the_invoices(chain):
    invoice = chain.invoice("100000.00")
    request = submitted(chain, [invoice], "90000.00")
    client = client_for(chain.supplier_maker)
    url = f"/portal/requests/{request.pk}/withdraw/"
    assert h1(client.get(url)) == f"Withdraw request {request.pk}?"
    client.post(url, {})  # not confirmed: nothing happens
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW
    response = client.post(url, {"confirmed": "1"}, follow=True)
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    assert f"Request {request.pk} was withdrawn." in text(response)
    assert not ReceivableHold.objects.filter(invoice=invoice, active=True).exists()


def test_only_the_applicant_s_makers_withdraw(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    url = f"/portal/requests/{request.pk}/withdraw/"
    viewer = client_for(member(chain.supplier, Role.VIEWER))
    assert viewer.post(url, {"confirmed": "1"}).status_code == 403
    core = client_for(chain.core_checker)
    assert core.post(url, {"confirmed": "1"}).status_code in (403,)
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW


def test_choosing_a_program_shows_its_invoices_without_complaining_yet(chain):
    chain.invoice("100.00")
    client = client_for(chain.supplier_maker)
    response = client.get("/portal/apply/", {"program": chain.program.pk, "recalculate": "1"})
    assert "field-error" not in response.content.decode()
    response = client.get(
        "/portal/apply/",
        {"program": chain.program.pk, "shown_program": chain.program.pk, "recalculate": "1"},
    )
    assert 'id="id_invoices-error"' in response.content.decode()
