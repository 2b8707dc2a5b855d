"""PDF documents: each renders with its deal's amounts and parties in its addressee's language,
is stored once with the SHA-256 that its `document.issued` event carries, is served to the
parties only (404 for anyone else), breaks long tables across pages, and is rendered by the real
Celery worker after the change that issues it commits."""

import hashlib
import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from pypdf import PdfReader

from documents import services as documents
from documents.models import Document
from documents.tasks import issue_document
from financing.documents import DocumentKind
from financing.models import FinancingRequest
from financing.services import decisions, money, periodic
from scf_platform.business_events import business_event, business_events_held
from scf_platform.clock import business_day
from scf_platform.models import Role
from scf_platform.tenancy import Scope, scope_activated
from suppliers.services import invoice_confirm, invoice_create
from tests.factories import member
from tests.financing.factories import make_chain, today
from tests.financing.factories import submit_request as screened

WORKER_DEADLINE_SECONDS = 90


# Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path, monkeypatch):
    """Documents land in a private MEDIA_ROOT (the worker, started later, inherits it too)."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    monkeypatch.setenv("MEDIA_ROOT", str(root))
    return root


@pytest.fixture
def issued_events():
    """The `document.issued` events, as the ledger's receiver would get them."""
    captured: list[dict] = []

    def receiver(sender, *, kind, subject, parties, payload, **kwargs):
        if kind == "document.issued":
            captured.append({"subject": subject, "parties": parties, "payload": payload})

    business_event.connect(receiver, dispatch_uid="test_documents_capture")
    yield captured
    business_event.disconnect(dispatch_uid="test_documents_capture")


def issue(kind: str, subject: str) -> Document:
    """Run the Celery task in-process, in the platform scope the receivers queue it with."""
    result = issue_document.apply(
        kwargs={"kind": kind, "subject": subject, "scope": {"system": True}}, throw=True
    )
    return Document.objects.get(pk=result.get())


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(document: Document) -> str:
    with document.file.open("rb") as handle:
        return re.sub(r"\s+", " ", " ".join(pdf_pages(handle.read())))


def stored_bytes(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def approved(chain, invoices, amount: str) -> FinancingRequest:
    request = screened(chain, invoices, amount)
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    return FinancingRequest.objects.get(pk=request.pk)


def disbursed(chain, invoices, amount: str) -> FinancingRequest:
    request = approved(chain, invoices, amount)
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    return FinancingRequest.objects.get(pk=request.pk)


def parties(document: Document) -> dict[str, int]:
    return {party.role: party.organization_id for party in document.parties.all()}


def names(chain) -> list[str]:
    return [chain.supplier.name, chain.core.name, chain.bank.name]


# Each document ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_confirmation_letter_is_the_buyers_undertaking_to_pay(media_root):
    chain = make_chain(prefix="Letter ")
    invoice = chain.invoice("123456.78", days=45, number="INV-LETTER-1")
    document = issue(DocumentKind.CONFIRMATION_LETTER, f"invoice:{invoice.pk}")

    assert (document.subject_kind, document.subject_id) == ("invoice", invoice.pk)
    assert parties(document) == {"seller": chain.supplier.pk, "buyer": chain.core.pk}
    assert document.file.name.startswith("documents/")
    assert (media_root / document.file.name).is_file()
    text = pdf_text(document)
    assert "Payable confirmation letter" in text
    for expected in (chain.core.name, chain.supplier.name, "INV-LETTER-1", "123,456.78 CNY"):
        assert expected in text
    assert "irrevocably and unconditionally undertake to pay 123,456.78 CNY" in text
    assert chain.bank.name not in text


@pytest.mark.django_db
def test_the_notice_of_assignment_tells_the_buyer_to_pay_the_bank(media_root):
    chain = make_chain(prefix="Notice ")
    first = chain.invoice("60000.00", days=90, number="INV-N-1")
    second = chain.invoice("40000.00", days=60, number="INV-N-2")
    request = approved(chain, [first, second], "90000.00")
    document = issue(DocumentKind.ASSIGNMENT_NOTICE, f"request:{request.pk}")

    assert (document.subject_kind, document.subject_id) == ("request", request.pk)
    assert parties(document) == {
        "applicant": chain.supplier.pk,
        "bank": chain.bank.pk,
        "core_enterprise": chain.core.pk,
    }
    text = pdf_text(document)
    assert "Notice of assignment" in text
    for expected in [*names(chain), "INV-N-1", "INV-N-2", "60,000.00 CNY", "100,000.00 CNY"]:
        assert expected in text
    assert f"to {chain.bank.name} only" in text


@pytest.mark.django_db
def test_the_financing_agreement_has_the_terms_invoices_fixed_quote_and_signatures(media_root):
    chain = make_chain(prefix="Agreement ", threshold="1000000.00")
    first = chain.invoice("60000.00", days=90, number="INV-A-1")
    second = chain.invoice("40000.00", days=60, number="INV-A-2")
    request = disbursed(chain, [first, second], "90000.00")
    document = issue(DocumentKind.FINANCING_AGREEMENT, f"request:{request.pk}")

    text = pdf_text(document)
    assert "Financing agreement" in text
    # The fixed quote: 90000 x 0.0435 x 90 / 360 = 978.75, net 89021.25.
    for expected in [
        *names(chain),
        chain.supplier.credit_code,
        chain.program.name,
        "INV-A-1",
        "INV-A-2",
        "100,000.00 CNY",
        "90,000.00 CNY",
        "978.75 CNY",
        "89,021.25 CNY",
        "4.35%",
        "90.00%",
        "ACT/360",
    ]:
        assert expected in text, expected
    assert text.count("Authorized signature") == 3


@pytest.mark.django_db
def test_the_repayment_statement_totals_repayments_and_late_interest(media_root):
    chain = make_chain(prefix="Statement ", threshold="1000000.00")
    request = disbursed(chain, [chain.invoice("10000.00", days=10)], "9000.00")
    maturity = request.maturity_date
    for offset in (1, 2, 3):
        periodic.requests_mark_overdue(today=maturity + timedelta(days=offset))
    paid_on = maturity + timedelta(days=3)
    with business_day(paid_on):
        money.financing_request_repay(
            request_id=request.pk,
            payer=chain.core,
            actor=chain.core_maker,
            amount=Decimal("5000.00"),
            paid_on=paid_on,
        )
        # 9000 x 0.0435 x 3 / 360 = 3.26 of late interest was paid first.
        money.financing_request_repay(
            request_id=request.pk,
            payer=chain.core,
            actor=chain.core_maker,
            amount=Decimal("4003.26"),
            paid_on=paid_on,
        )
    document = issue(DocumentKind.REPAYMENT_STATEMENT, f"request:{request.pk}")

    text = pdf_text(document)
    assert "Repayment statement" in text
    for expected in [
        *names(chain),
        "5,000.00 CNY",
        "4,003.26 CNY",
        "4,996.74 CNY",  # principal of the first repayment
        "3.26 CNY",  # late interest
        "9,003.26 CNY",  # total repaid
        "9,000.00 CNY",  # principal repaid
        "0.00 CNY",  # outstanding
    ]:
        assert expected in text, expected


@pytest.mark.django_db
def test_chinese_organizations_get_chinese_documents_in_the_text_layer(media_root):
    chain = make_chain(prefix="中文 ")
    chain.core.language = "zh-hans"
    chain.core.save()
    chain.supplier.language = "zh-hans"
    chain.supplier.save()
    invoice = chain.invoice("88888.00", number="INV-ZH-1")
    letter = issue(DocumentKind.CONFIRMATION_LETTER, f"invoice:{invoice.pk}")
    request = disbursed(chain, [chain.invoice("50000.00", number="INV-ZH-2")], "45000.00")
    agreement = issue(DocumentKind.FINANCING_AGREEMENT, f"request:{request.pk}")

    assert (letter.language, agreement.language) == ("zh-hans", "zh-hans")
    letter_text = pdf_text(letter)
    assert "应收账款确权函" in letter_text
    assert "不可撤销" in letter_text
    assert "中文 Core" in letter_text
    assert "88,888.00 CNY" in letter_text
    agreement_text = pdf_text(agreement)
    for expected in ("融资协议", "融资金额", "贴现利息", "实收净额", "授权签字", "45,000.00 CNY"):
        assert expected in agreement_text, expected
    assert "Financing agreement" not in agreement_text


@pytest.mark.django_db
def test_the_english_applicant_reads_the_agreement_in_english_while_the_buyer_reads_chinese(
    media_root,
):
    chain = make_chain(prefix="Mixed ")
    chain.core.language = "zh-hans"
    chain.core.save()
    request = approved(chain, [chain.invoice("20000.00")], "18000.00")
    notice = issue(DocumentKind.ASSIGNMENT_NOTICE, f"request:{request.pk}")
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    agreement = issue(DocumentKind.FINANCING_AGREEMENT, f"request:{request.pk}")

    assert (notice.language, agreement.language) == ("zh-hans", "en")
    assert "应收账款转让通知书" in pdf_text(notice)
    assert "Financing agreement" in pdf_text(agreement)


# Integrity and idempotency --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_stored_files_hash_is_the_documents_and_the_ledger_events(media_root, issued_events):
    chain = make_chain(prefix="Hash ")
    invoice = chain.invoice("5000.00")
    document = issue(DocumentKind.CONFIRMATION_LETTER, f"invoice:{invoice.pk}")

    digest = hashlib.sha256((media_root / document.file.name).read_bytes()).hexdigest()
    assert digest == document.sha256
    assert document.size == (media_root / document.file.name).stat().st_size
    assert issued_events == [
        {
            "subject": f"document:{document.pk}",
            "parties": sorted([chain.supplier.pk, chain.core.pk]),
            "payload": {
                "document": document.pk,
                "kind": "confirmation_letter",
                "sha256": digest,
                "subject": f"invoice:{invoice.pk}",
            },
        }
    ]


@pytest.mark.django_db
def test_a_second_issue_returns_the_first_document_without_rendering(
    media_root, issued_events, monkeypatch
):
    chain = make_chain(prefix="Once ")
    invoice = chain.invoice("5000.00")
    subject = f"invoice:{invoice.pk}"
    first = issue(DocumentKind.CONFIRMATION_LETTER, subject)
    stored = media_root / first.file.name
    before = (stored.read_bytes(), stored.stat().st_mtime_ns)

    def no_rendering(**kwargs):
        raise AssertionError("an issued document was rendered again")

    monkeypatch.setattr(documents, "document_render", no_rendering)
    again = issue(DocumentKind.CONFIRMATION_LETTER, subject)

    assert again.pk == first.pk
    assert (stored.read_bytes(), stored.stat().st_mtime_ns) == before
    assert Document.objects.filter(kind=DocumentKind.CONFIRMATION_LETTER).count() == 1
    assert len(issued_events) == 1
    assert sorted(p.name for p in (media_root / "documents").iterdir()) == [stored.name]


@pytest.mark.django_db
def test_the_business_events_queue_their_documents_only_on_commit(
    media_root, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        issue_document, "delay", lambda **kwargs: queued.append(kwargs), raising=False
    )
    chain = make_chain(prefix="Queue ", threshold="1000000.00")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = chain.invoice("30000.00")
    with django_capture_on_commit_callbacks(execute=True):
        request = screened(chain, [invoice], "27000.00")
    assert queued == [
        {
            "kind": "confirmation_letter",
            "subject": f"invoice:{invoice.pk}",
            "scope": {"system": True},
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
        )
        money.financing_request_disburse(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
        )
        money.financing_request_repay(
            request_id=request.pk,
            payer=chain.core,
            actor=chain.core_maker,
            amount=Decimal("27000.00"),
            paid_on=today(),
        )
    assert [(q["kind"], q["subject"]) for q in queued[1:]] == [
        ("assignment_notice", f"request:{request.pk}"),
        ("financing_agreement", f"request:{request.pk}"),
        ("repayment_statement", f"request:{request.pk}"),
    ]


@pytest.mark.django_db
def test_events_recorded_together_queue_their_documents_too(
    media_root, monkeypatch, django_capture_on_commit_callbacks
):
    """A service holding its events to record them at once (business_events_held) still issues
    every document they owe: the receiver listens to both signals."""
    queued = []
    monkeypatch.setattr(
        issue_document, "delay", lambda **kwargs: queued.append(kwargs), raising=False
    )
    chain = make_chain(prefix="Held ")
    invoices = [chain.invoice("1000.00", confirm=False) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True), business_events_held():
        for invoice in invoices:
            invoice_confirm(invoice_id=invoice.pk, buyer=chain.core, actor=chain.core_checker)
    assert [(q["kind"], q["subject"]) for q in queued] == [
        ("confirmation_letter", f"invoice:{invoice.pk}") for invoice in invoices
    ]


# Long tables -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_long_invoice_list_breaks_across_pages_with_its_header_repeated(media_root):
    chain = make_chain(prefix="Long ", credit_limit="100000000.00", threshold="100000000.00")
    invoices = [
        chain.invoice(f"{1000 + n}.00", days=30 + n, number=f"LONG-{n:03d}") for n in range(60)
    ]
    request = disbursed(chain, invoices, "50000.00")
    document = issue(DocumentKind.FINANCING_AGREEMENT, f"request:{request.pk}")

    pages = pdf_pages(stored_bytes(document))
    assert len(pages) > 1
    text = " ".join(pages)
    for n in range(60):
        assert f"LONG-{n:03d}" in text
    # Every page the invoice table runs onto starts it again with its header.
    table_pages = [page for page in pages if re.search(r"LONG-0[0-5]\d", page)]
    assert len(table_pages) > 1
    assert all("Invoice number" in page for page in table_pages)
    # No row is cut in two: each invoice's number and amount are on the same page.
    for n in range(60):
        page = next(page for page in pages if f"LONG-{n:03d}" in page)
        assert f"{1000 + n:,}.00 CNY" in page


# Serving ---------------------------------------------------------------------------------------


@pytest.fixture
def agreement(media_root):
    chain = make_chain(prefix="Served ")
    request = disbursed(chain, [chain.invoice("20000.00")], "18000.00")
    document = issue(DocumentKind.FINANCING_AGREEMENT, f"request:{request.pk}")
    return chain, request, document


def portal_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_every_party_downloads_the_stored_file(agreement, api_as):
    chain, request, document = agreement
    stored = stored_bytes(document)
    for user, organization in [
        (chain.supplier_maker, chain.supplier),
        (chain.bank_maker, chain.bank),
        (chain.core_checker, chain.core),
    ]:
        response = portal_client(user).get(f"/portal/documents/{document.pk}.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == stored
        client = api_as(user, organization)
        meta = client.get(f"/api/v1/documents/{document.pk}/")
        assert meta.status_code == 200
        assert meta.json()["sha256"] == document.sha256
        assert meta.json()["kind"] == "financing_agreement"
        assert meta.json()["ledger_subject"] == f"document:{document.pk}"
        for url in (
            meta.json()["download"],
            f"/api/v1/financing-requests/{request.pk}/agreement.pdf",
        ):
            response = client.get(url, HTTP_ACCEPT="application/pdf")
            assert response.status_code == 200, url
            assert b"".join(response.streaming_content) == stored
            assert response["X-Document-SHA256"] == document.sha256
    # The request page's link by kind serves the same file.
    response = portal_client(chain.supplier_maker).get(
        f"/portal/requests/{request.pk}/documents/financing_agreement.pdf"
    )
    assert b"".join(response.streaming_content) == stored


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["supplier", "core enterprise", "bank"])
def test_an_outsider_gets_404_everywhere(agreement, api_as, who):
    chain, request, document = agreement
    other = make_chain(prefix="Outsider ")
    organization = {"supplier": other.supplier, "core enterprise": other.core, "bank": other.bank}[
        who
    ]
    user = member(organization, Role.ADMIN)
    portal = portal_client(user)
    for url in (
        f"/portal/documents/{document.pk}.pdf",
        f"/portal/requests/{request.pk}/documents/financing_agreement.pdf",
    ):
        assert portal.get(url).status_code == 404, url
    client = api_as(user, organization)
    for url in (
        f"/api/v1/documents/{document.pk}/",
        f"/api/v1/documents/{document.pk}/download/",
        f"/api/v1/financing-requests/{request.pk}/agreement.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert document.sha256 not in response.content.decode(errors="replace")


@pytest.mark.django_db
def test_the_bank_is_no_party_to_the_confirmation_letter(media_root, api_as):
    chain = make_chain(prefix="Letter party ")
    invoice = chain.invoice("7000.00")
    letter = issue(DocumentKind.CONFIRMATION_LETTER, f"invoice:{invoice.pk}")
    url = f"/api/v1/documents/{letter.pk}/"
    assert api_as(chain.supplier_maker, chain.supplier).get(url).status_code == 200
    assert api_as(chain.core_checker, chain.core).get(url).status_code == 200
    assert api_as(chain.bank_admin, chain.bank).get(url).status_code == 404


@pytest.mark.django_db
def test_row_level_security_hides_documents_from_other_organizations(agreement):
    chain, request, document = agreement
    other = make_chain(prefix="RLS ")
    # No visible_to() here: the database's own policy is what is under test.
    with scope_activated(Scope(organization_id=other.bank.pk)):
        assert not Document.objects.filter(pk=document.pk).exists()
    with scope_activated(Scope(organization_id=chain.core.pk)):
        assert Document.objects.filter(pk=document.pk).exists()


@pytest.mark.django_db
def test_an_agreement_not_issued_yet_is_a_404_that_says_so(media_root, api_as):
    chain = make_chain(prefix="Pending ")
    request = approved(chain, [chain.invoice("20000.00")], "18000.00")
    response = api_as(chain.supplier_maker, chain.supplier).get(
        f"/api/v1/financing-requests/{request.pk}/agreement.pdf"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_issued"
    portal = portal_client(chain.supplier_maker)
    response = portal.get(f"/portal/requests/{request.pk}/documents/financing_agreement.pdf")
    assert response.status_code == 404


# The real worker -------------------------------------------------------------------------------


@pytest.mark.worker
def test_the_worker_issues_the_confirmation_letter_after_the_confirmation_commits(
    media_root, issued_events, celery_worker_process
):
    with scope_activated(Scope.platform()):
        chain = make_chain(prefix="Worker ")
        invoice = invoice_create(
            seller=chain.supplier,
            buyer=chain.core,
            number="INV-WORKER-1",
            issue_date=today() - timedelta(days=3),
            due_date=today() + timedelta(days=60),
            currency="CNY",
            amount=Decimal("31415.92"),
            actor=chain.supplier_maker,
        )
    subject = f"invoice:{invoice.pk}"
    with scope_activated(Scope.platform()):
        invoice_confirm(invoice_id=invoice.pk, buyer=chain.core, actor=chain.core_checker)
        # Nothing is rendered inside the confirming transaction: the worker waits for its commit.
        assert not Document.objects.about(subject).exists()

    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    document = None
    while document is None and time.monotonic() < deadline:
        with scope_activated(Scope.platform()):
            document = (
                Document.objects.about(subject)
                .filter(kind=DocumentKind.CONFIRMATION_LETTER)
                .first()
            )
        if document is None:
            time.sleep(0.25)
    assert document is not None, celery_worker_process.log.read_text(errors="replace")[-3000:]
    data = (media_root / document.file.name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == document.sha256
    text = " ".join(pdf_pages(data))
    assert "INV-WORKER-1" in text and "31,415.92 CNY" in text
    # The event went out in the worker's process, not in this one.
    assert issued_events == []
