"""Bulk invoice upload (CSV and UBL 2.1 XML): good rows land, bad rows are reported, a file that
cannot be read (hostile, malformed, too large) writes nothing."""

import json
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import resolve

from ledger.models import LedgerEntry
from ledger.verification import ledger_verify
from scf_platform.models import Organization, OrganizationKind, Role
from scf_platform.tenancy import Scope, scope_activated
from suppliers import imports, services
from suppliers.api.import_view import InvoiceImportView
from suppliers.imports import (
    ImportFileError,
    ImportFileTooLarge,
    ImportReport,
    import_max_bytes,
    import_max_rows,
    invoices_import,
)
from suppliers.models import Invoice, InvoiceEvent, InvoiceSource, InvoiceStatus
from suppliers.services import invoice_create, invoice_payload
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/import/"
SAMPLES = Path(__file__).parent / "samples"
# The credit codes written in the sample files.
CORE_CODE = "91310000770000001W"
STRANGER_CODE = "913100007700000020"  # an enterprise that exists but buys nothing from the seller
UNKNOWN_CODE = "913100007700000033"  # a valid code that no organization has
HEADER = "number,buyer_credit_code,issue_date,due_date,currency,amount"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # make_chain signs up eight users; the production hasher would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def chain():
    chain = make_chain()
    Organization.objects.filter(pk=chain.core.pk).update(credit_code=CORE_CODE)
    chain.core.refresh_from_db()
    OrganizationFactory(name="Stranger", credit_code=STRANGER_CODE)
    return chain


@pytest.fixture
def upload(api_as, chain):
    """POST a file as the supplier's maker (or as `user` of `organization`)."""

    def post(content: bytes, name: str = "invoices.csv", user=None, organization=None):
        client = api_as(user or chain.supplier_maker, organization or chain.supplier)
        return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")

    return post


class Written:
    """Counts what an import could have written, to prove a refusal wrote nothing."""

    def __init__(self) -> None:
        self.before = self.now()

    @staticmethod
    def now() -> tuple[int, int, int]:
        return Invoice.objects.count(), InvoiceEvent.objects.count(), LedgerEntry.objects.count()


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def test_the_contract_path_is_routed_to_the_import_view():
    assert resolve(URL).func.view_class is InvoiceImportView


# CSV --------------------------------------------------------------------------------------------


def test_a_csv_lands_its_good_rows_and_reports_every_bad_row_with_its_field_errors(upload, chain):
    response = upload(sample("invoices.csv"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 3
    errors = {rejection["row"]: rejection["errors"] for rejection in body["rejected"]}
    assert {row: sorted(fields) for row, fields in errors.items()} == {
        2: ["amount"],  # 1e3: an exponent
        3: ["amount"],  # 12.345: three decimals
        4: ["amount"],  # -5
        5: ["amount"],  # "1,000.00": a thousands separator
        6: ["buyer_credit_code"],  # no organization has the code
        7: ["buyer_credit_code"],  # an organization the seller does not supply
        8: ["number"],  # full-width look-alike characters
        9: ["number"],  # the number of row 1 again
        10: ["issue_date"],  # 2025/01/12
        11: ["due_date"],  # due before issued
        12: ["currency"],  # XYZ
        14: ["amount", "issue_date"],  # 30 February, and 1e3: every error at once
        15: ["non_field_errors"],  # five columns
    }
    assert not Organization.objects.filter(credit_code=UNKNOWN_CODE).exists()
    assert errors[6]["buyer_credit_code"] == ["Unknown buyer."]
    assert errors[7]["buyer_credit_code"] == ["You are not a supplier of this buyer."]
    assert "is already in row 1 of this file" in errors[9]["number"][0]
    assert "YYYY-MM-DD" in errors[10]["issue_date"][0]

    landed = {invoice.number: invoice for invoice in Invoice.objects.filter(seller=chain.supplier)}
    assert set(landed) == {"INV-2025-0001", "INV-2025-0013", "INV-2025-0017"}
    first = landed["INV-2025-0001"]
    assert (first.buyer, first.issue_date, first.due_date, first.currency, first.amount) == (
        chain.core,
        date(2025, 1, 10),
        date(2025, 3, 10),
        "CNY",
        Decimal("100000.00"),
    )
    assert landed["INV-2025-0013"].amount == Decimal("250000.50")
    assert landed["INV-2025-0013"].currency == "USD"
    assert landed["INV-2025-0017"].amount == Decimal("42.50")
    assert {i.source for i in landed.values()} == {InvoiceSource.CSV}
    assert {i.status for i in landed.values()} == {InvoiceStatus.UPLOADED}
    assert {i.created_by for i in landed.values()} == {chain.supplier_maker}
    # Each landed invoice has its upload event, and nothing else was written.
    assert InvoiceEvent.objects.filter(invoice__in=landed.values()).count() == 3
    assert Invoice.objects.count() == 3


def test_the_service_reports_what_it_did(chain):
    report = invoices_import(
        seller=chain.supplier,
        actor=chain.supplier_admin,
        filename="invoices.csv",
        content=sample("invoices.csv"),
    )
    assert (report.format, report.created, len(report.rejected)) == ("csv", 3, 13)
    assert set(
        Invoice.objects.filter(pk__in=report.invoice_ids).values_list("number", flat=True)
    ) == {"INV-2025-0001", "INV-2025-0013", "INV-2025-0017"}
    assert [r.row for r in report.rejected] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    assert {i.created_by for i in Invoice.objects.all()} == {chain.supplier_admin}


def test_a_number_already_uploaded_is_rejected_and_the_rest_lands(upload, chain):
    chain.invoice(number="INV-2025-0013", confirm=False)
    written = Written()

    body = upload(sample("invoices.csv")).json()

    assert body["created"] == 2
    rejected = {rejection["row"]: rejection["errors"] for rejection in body["rejected"]}
    assert rejected[13] == {"number": ["You already uploaded an invoice numbered INV-2025-0013."]}
    assert Invoice.objects.count() == written.before[0] + 2
    # The one uploaded before is untouched.
    assert Invoice.objects.get(number="INV-2025-0013").amount == Decimal("100000.00")


def test_a_number_repeated_in_the_file_lands_once(upload, chain):
    content = csv_file(
        f"INV-9,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
        f"INV-9,{CORE_CODE},2025-01-11,2025-03-11,CNY,20.00",
        f" INV-9 ,{CORE_CODE},2025-01-11,2025-03-11,CNY,30.00",
    )
    body = upload(content).json()
    assert body["created"] == 1
    assert [rejection["row"] for rejection in body["rejected"]] == [2, 3]
    for rejection in body["rejected"]:
        assert rejection["errors"]["number"][0] == (
            "Invoice number INV-9 is already in row 1 of this file."
        )
    assert Invoice.objects.get(number="INV-9").amount == Decimal("10.00")


def test_an_amount_too_large_for_any_account_is_a_row_error_not_a_crash(upload, chain):
    """More digits than NUMERIC(18, 2) holds, and more than Decimal's precision (28)."""
    content = csv_file(
        f"INV-BIG-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,12345678901234567",
        f"INV-BIG-2,{CORE_CODE},2025-01-10,2025-03-10,CNY,{'9' * 35}.00",
        f"INV-BIG-3,{CORE_CODE},2025-01-10,2025-03-10,CNY,9999999999999999.99",
    )
    response = upload(content)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["row"], sorted(r["errors"])) for r in body["rejected"]] == [
        (1, ["amount"]),
        (2, ["amount"]),
    ]
    assert Invoice.objects.get(number="INV-BIG-3").amount == Decimal("9999999999999999.99")


@pytest.mark.parametrize(
    "look_alike",
    [
        "ＩＮＶ１",  # full-width letters and digit
        "INV-2025-0００1",  # full-width zeros among ASCII
        "ІNV-2025-0001",  # Cyrillic І
        "INV\u200b-2025-0001",  # a zero-width space
    ],
)
def test_a_look_alike_number_is_rejected_not_landed_as_a_twin(upload, chain, look_alike):
    chain.invoice(number="INV-2025-0001", confirm=False)
    written = Written()
    body = upload(csv_file(f"{look_alike},{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00")).json()
    assert body["created"] == 0
    assert list(body["rejected"][0]["errors"]) == ["number"]
    assert "plain ASCII" in body["rejected"][0]["errors"]["number"][0]
    assert written.now() == written.before


def test_rows_are_numbered_as_data_lines_after_the_header_blank_lines_included(upload, chain):
    content = csv_file(
        f"B-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
        "",
        ",,,,,",
        f"B-4,{CORE_CODE},2025-01-10,2025-03-10,CNY,1e3",
    )
    body = upload(content).json()
    assert body["created"] == 1
    assert [rejection["row"] for rejection in body["rejected"]] == [4]


def test_a_byte_order_mark_is_tolerated(upload, chain):
    content = b"\xef\xbb\xbf" + csv_file(f"INV-BOM,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00")
    assert upload(content).json() == {"created": 1, "rejected": []}


def test_a_file_of_only_good_rows_reports_no_rejections(upload, chain):
    content = csv_file(
        f"A-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
        f"A-2,{CORE_CODE},2025-01-10,2025-03-10,CNY,20",
    )
    assert upload(content).json() == {"created": 2, "rejected": []}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("number,buyer_credit_code,issue_date,due_date,currency", "missing: amount"),
        (HEADER + ",note", "unexpected: note"),
        ("number,buyer,issue_date,due_date,currency,amount", "missing: buyer_credit_code"),
        ("buyer_credit_code,number,issue_date,due_date,currency,amount", "out of order"),
    ],
)
def test_a_wrong_csv_header_refuses_the_whole_file(upload, chain, header, detail):
    written = Written()
    response = upload(csv_file(f"INV-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00", header=header))
    assert response.status_code == 400
    assert detail in response.json()["file"][0]
    assert written.now() == written.before


def test_garbage_binary_is_400_and_writes_nothing(upload, chain):
    written = Written()
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe\xfd" * 20
    response = upload(garbage, name="invoices.csv")
    assert response.status_code == 400
    assert "neither a UTF-8 CSV" in response.json()["file"][0]
    assert written.now() == written.before


def test_an_empty_file_is_400(upload, chain):
    written = Written()
    assert upload(b"").status_code == 400
    assert written.now() == written.before


def test_a_malformed_csv_is_400_and_writes_nothing(upload, chain):
    written = Written()
    content = csv_file(
        f"INV-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
        f'"INV-2"x,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00',
    )
    response = upload(content)
    assert response.status_code == 400
    assert "cannot be read" in response.json()["file"][0]
    assert written.now() == written.before


def test_too_many_rows_is_400_and_writes_nothing(upload, chain, settings):
    settings.INVOICE_IMPORT_MAX_ROWS = 3
    written = Written()
    rows = [f"INV-{n},{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00" for n in range(4)]
    response = upload(csv_file(*rows))
    assert response.status_code == 400
    assert "more than 3 rows" in response.json()["file"][0]
    assert written.now() == written.before
    # At the cap exactly, the file is taken.
    assert upload(csv_file(*rows[:3])).json()["created"] == 3


def test_the_format_is_told_by_content_not_by_file_name(upload, chain):
    assert upload(sample("ubl_invoice.xml"), name="invoices.csv").json()["created"] == 1
    content = csv_file(f"INV-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00")
    assert upload(content, name="invoice.xml").json()["created"] == 1
    assert set(Invoice.objects.values_list("source", flat=True)) == {"ubl", "csv"}


def import_as_maker(chain, content: bytes) -> ImportReport:
    return invoices_import(
        seller=chain.supplier, actor=chain.supplier_maker, filename="f.csv", content=content
    )


def recorded(invoice: Invoice) -> tuple[InvoiceEvent, LedgerEntry, dict]:
    """The invoice's upload event and its ledger entry, with the entry's leaf read."""
    event = InvoiceEvent.objects.get(invoice=invoice)
    entry = LedgerEntry.objects.get(subject=f"invoice:{invoice.pk}")
    return event, entry, json.loads(bytes(entry.leaf))


def test_an_imported_invoice_is_recorded_as_one_uploaded_alone_is(chain):
    alone = invoice_create(
        seller=chain.supplier,
        buyer=chain.core,
        number="ALONE-1",
        issue_date=date(2025, 1, 10),
        due_date=date(2025, 3, 10),
        currency="CNY",
        amount=Decimal("10.00"),
        actor=chain.supplier_maker,
    )
    report = import_as_maker(
        chain,
        csv_file(
            f"BULK-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
            f"BULK-2,{CORE_CODE},2025-01-11,2025-03-11,USD,20.5",
        ),
    )
    first, second = Invoice.objects.filter(pk__in=report.invoice_ids).order_by("number")
    assert report.invoice_ids == [first.pk, second.pk]
    _, alone_entry, alone_leaf = recorded(alone)
    for invoice in (alone, first, second):
        invoice.refresh_from_db()
        event, entry, leaf = recorded(invoice)
        assert (
            event.from_status,
            event.to_status,
            event.reason,
            event.details,
            event.actor,
            event.actor_organization,
            event.seller,
            event.buyer,
        ) == (
            "",
            "uploaded",
            "",
            {},
            chain.supplier_maker,
            chain.supplier,
            chain.supplier,
            chain.core,
        )
        assert (entry.kind, leaf["kind"], leaf["subject"]) == (
            "invoice.uploaded",
            "invoice.uploaded",
            f"invoice:{invoice.pk}",
        )
        assert leaf.keys() == alone_leaf.keys()
        assert leaf["parties"] == sorted([chain.supplier.pk, chain.core.pk])
        assert leaf["payload"] == {**invoice_payload(invoice), "from": "", "reason": ""}
    assert recorded(second)[2]["payload"]["amount"] == "20.50"
    # One leaf each, in the file's order, after the one uploaded alone.
    _, first_entry, _ = recorded(first)
    _, second_entry, _ = recorded(second)
    assert [first_entry.index, second_entry.index] == [alone_entry.index + 1, alone_entry.index + 2]


def test_repeated_numbers_are_reported_on_the_rows_that_repeat_them(chain):
    chain.invoice(number="OLD-1", confirm=False)
    written = Written()
    report = import_as_maker(
        chain,
        csv_file(
            f"NEW-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
            f"OLD-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,11.00",
            f"NEW-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,12.00",
            f"BAD-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,1e3",
            f"OLD-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,13.00",
            f"BAD-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,14.00",
            f"NEW-2,{CORE_CODE},2025-01-10,2025-03-10,CNY,15.00",
        ),
    )
    rejected = {rejection.row: rejection.errors for rejection in report.rejected}
    assert list(rejected) == [2, 3, 4, 5, 6]
    assert rejected[2] == {"number": ["You already uploaded an invoice numbered OLD-1."]}
    # A repeat of a row that landed, or of an invoice uploaded before, is both.
    assert rejected[3] == {
        "number": [
            "Invoice number NEW-1 is already in row 1 of this file.",
            "You already uploaded an invoice numbered NEW-1.",
        ]
    }
    assert rejected[5] == {
        "number": [
            "Invoice number OLD-1 is already in row 2 of this file.",
            "You already uploaded an invoice numbered OLD-1.",
        ]
    }
    assert list(rejected[4]) == ["amount"]
    # The repeat of a row that did not land is only a repeat.
    assert rejected[6] == {"number": ["Invoice number BAD-1 is already in row 4 of this file."]}
    landed = Invoice.objects.filter(pk__in=report.invoice_ids)
    assert sorted(landed.values_list("number", "amount")) == [
        ("NEW-1", Decimal("10.00")),
        ("NEW-2", Decimal("15.00")),
    ]
    assert written.now() == tuple(count + 2 for count in written.before)


def test_rows_land_in_batches_with_their_ids_in_file_order(chain, monkeypatch):
    monkeypatch.setattr(services, "LAND_BATCH", 3)
    rows = [f"N-{n},{CORE_CODE},2025-01-10,2025-03-10,CNY,{n + 1}.00" for n in range(10)]
    rows[4] = rows[1]  # a repeat, in the second batch of the first
    report = import_as_maker(chain, csv_file(*rows))
    assert [rejection.row for rejection in report.rejected] == [5]
    numbers = dict(Invoice.objects.values_list("pk", "number"))
    assert [numbers[pk] for pk in report.invoice_ids] == [
        f"N-{n}" for n in (0, 1, 2, 3, 5, 6, 7, 8, 9)
    ]
    assert LedgerEntry.objects.filter(kind="invoice.uploaded").count() == 9
    assert ledger_verify().ok


def test_a_twin_that_slips_past_the_lookup_is_refused_by_the_constraint(chain, monkeypatch):
    """A number uploaded after the file's numbers were looked up (as when two uploads race):
    the unique constraint decides, the row is reported, the rows around it land, and only the
    invoices that landed get an event and a ledger leaf."""
    chain.invoice(number="RACE-1", confirm=False)
    monkeypatch.setattr(imports, "numbers_uploaded", lambda **kwargs: set())
    written = Written()
    report = import_as_maker(
        chain,
        csv_file(
            f"RACE-0,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
            f"RACE-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
            f"RACE-2,{CORE_CODE},2025-01-10,2025-03-10,CNY,20.00",
        ),
    )
    assert report.created == 2
    assert [(r.row, r.errors) for r in report.rejected] == [
        (2, {"number": ["You already uploaded an invoice numbered RACE-1."]})
    ]
    assert written.now() == tuple(count + 2 for count in written.before)
    assert Invoice.objects.get(number="RACE-1").amount == Decimal("100000.00")
    landed = set(Invoice.objects.filter(pk__in=report.invoice_ids).values_list("number", flat=True))
    assert landed == {"RACE-0", "RACE-2"}


@pytest.mark.django_db(transaction=True)
def test_a_twin_committed_by_another_upload_meanwhile_is_reported_not_an_error(monkeypatch):
    with scope_activated(Scope.platform()):
        chain = make_chain()
        Organization.objects.filter(pk=chain.core.pk).update(credit_code=CORE_CODE)
    land = imports.invoices_create_many

    def upload_elsewhere() -> None:
        try:
            with scope_activated(Scope(organization_id=chain.supplier.pk)):
                invoice_create(
                    seller=chain.supplier,
                    buyer=chain.core,
                    number="RACE-1",
                    issue_date=date(2025, 1, 10),
                    due_date=date(2025, 3, 10),
                    currency="CNY",
                    amount=Decimal("99.00"),
                    actor=chain.supplier_admin,
                )
        finally:
            connection.close()

    def land_after_a_twin_committed(**kwargs):
        # Between the file's lookup and its landing, another connection commits RACE-1.
        other = threading.Thread(target=upload_elsewhere)
        other.start()
        other.join()
        return land(**kwargs)

    monkeypatch.setattr(imports, "invoices_create_many", land_after_a_twin_committed)
    with scope_activated(Scope(organization_id=chain.supplier.pk, user_id=chain.supplier_maker.pk)):
        report = import_as_maker(
            chain,
            csv_file(
                f"RACE-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00",
                f"RACE-2,{CORE_CODE},2025-01-10,2025-03-10,CNY,20.00",
            ),
        )
    assert report.created == 1
    assert [(r.row, r.errors) for r in report.rejected] == [
        (1, {"number": ["You already uploaded an invoice numbered RACE-1."]})
    ]
    with scope_activated(Scope.platform()):
        assert Invoice.objects.get(number="RACE-1").amount == Decimal("99.00")
        assert Invoice.objects.get(number="RACE-2").pk == report.invoice_ids[0]
        assert LedgerEntry.objects.filter(kind="invoice.uploaded").count() == 2
        assert ledger_verify().ok


# UBL --------------------------------------------------------------------------------------------


def test_a_ubl_invoice_lands_with_its_buyer_from_the_party_legal_entity(upload, chain):
    response = upload(sample("ubl_invoice.xml"), name="UBL-2025-0001.xml")

    assert response.status_code == 200
    assert response.json() == {"created": 1, "rejected": []}
    invoice = Invoice.objects.get()
    assert (
        invoice.number,
        invoice.seller,
        invoice.buyer,
        invoice.issue_date,
        invoice.due_date,
        invoice.currency,
        invoice.amount,
        invoice.source,
    ) == (
        "UBL-2025-0001",
        chain.supplier,
        chain.core,
        date(2025, 3, 1),
        date(2025, 4, 30),
        "CNY",
        Decimal("113000.00"),  # the payable amount, tax included
        InvoiceSource.UBL,
    )


def test_a_ubl_invoice_lands_with_its_buyer_from_the_tax_scheme_and_the_payment_due_date(
    upload, chain
):
    assert upload(sample("ubl_invoice_tax_scheme.xml"), name="b.xml").json()["created"] == 1
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.buyer, invoice.due_date, invoice.amount) == (
        "UBL-2025-0002",
        chain.core,
        date(2025, 5, 4),
        Decimal("2260.00"),
    )


def test_a_bad_ubl_invoice_is_row_1_with_its_field_errors(upload, chain):
    content = (
        sample("ubl_invoice.xml")
        .replace(b'"CNY">113000.00</cbc:PayableAmount>', b'"CNY">113,000.00</cbc:PayableAmount>')
        .replace(CORE_CODE.encode(), STRANGER_CODE.encode())
        .replace(b"<cbc:DueDate>2025-04-30</cbc:DueDate>", b"")
    )
    written = Written()
    body = upload(content, name="bad.xml").json()
    assert body["created"] == 0
    [rejection] = body["rejected"]
    assert rejection["row"] == 1
    assert sorted(rejection["errors"]) == ["amount", "buyer_credit_code", "due_date"]
    assert "cbc:DueDate" in rejection["errors"]["due_date"][0]
    assert written.now() == written.before


def test_a_ubl_payable_amount_in_another_currency_is_rejected(upload, chain):
    content = sample("ubl_invoice.xml").replace(
        b'currencyID="CNY">113000.00</cbc:PayableAmount>',
        b'currencyID="USD">113000.00</cbc:PayableAmount>',
    )
    body = upload(content, name="a.xml").json()
    assert body["created"] == 0
    assert body["rejected"][0]["errors"] == {
        "amount": ["The payable amount is in USD but the invoice currency is CNY."]
    }


def test_a_ubl_invoice_already_uploaded_is_rejected(upload, chain):
    assert upload(sample("ubl_invoice.xml"), name="a.xml").json()["created"] == 1
    written = Written()
    body = upload(sample("ubl_invoice.xml"), name="a.xml").json()
    assert body == {
        "created": 0,
        "rejected": [
            {
                "row": 1,
                "errors": {"number": ["You already uploaded an invoice numbered UBL-2025-0001."]},
            }
        ],
    }
    assert written.now() == written.before


def test_a_credit_note_is_not_an_invoice(upload, chain):
    written = Written()
    response = upload(sample("ubl_credit_note.xml"), name="cn.xml")
    assert response.status_code == 400
    assert response.json() == {"file": ["A credit note is not an invoice."]}
    assert written.now() == written.before


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_hostile_xml_is_400_and_writes_nothing(upload, chain, name):
    written = Written()
    response = upload(sample(name), name=name)
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert message.startswith("Hostile XML")
    assert "root:" not in message  # nothing of /etc/passwd comes back
    assert written.now() == written.before


def test_hostile_xml_is_refused_by_the_service_too(chain):
    for name in ("billion_laughs.xml", "external_entity.xml"):
        with pytest.raises(ImportFileError) as refused:
            invoices_import(
                seller=chain.supplier,
                actor=chain.supplier_maker,
                filename=name,
                content=sample(name),
            )
        assert refused.value.code == "hostile_xml"
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"<Invoice><cbc:ID>1</cbc:ID>", "not well-formed"),
        (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "not a UBL"),
        (b"<Invoice><ID>1</ID></Invoice>", "not a UBL"),  # the right name, no namespace
        (b'<?xml version="1.0" encoding="no-such-encoding"?><a/>', "not well-formed"),
    ],
)
def test_xml_that_is_not_a_ubl_invoice_is_400(upload, chain, content, detail):
    written = Written()
    response = upload(content, name="x.xml")
    assert response.status_code == 400
    assert detail in response.json()["file"][0]
    assert written.now() == written.before


# Size -------------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_413_and_writes_nothing(upload, chain, settings):
    content = csv_file(f"INV-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00")
    settings.INVOICE_IMPORT_MAX_BYTES = len(content) - 1
    written = Written()
    response = upload(content)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert written.now() == written.before
    # Far over the limit, the request is refused by its declared length, before it is read.
    assert upload(content + b"x" * 200_000).status_code == 413
    assert written.now() == written.before
    # At the limit exactly, the file is taken.
    settings.INVOICE_IMPORT_MAX_BYTES = len(content)
    assert upload(content).json()["created"] == 1


def test_a_file_of_as_many_rows_as_allowed_is_within_the_default_size_limit(
    upload, chain, monkeypatch
):
    """100,000 rows (INVOICE_IMPORT_MAX_ROWS) of long invoice numbers and large amounts are
    some 8 MB: the upload is taken, not refused as too large. (The import itself is stubbed:
    landing 100,000 rows is the benchmark's business, not a unit test's.)"""
    row = "INV-2025-{:010d}," + CORE_CODE + ",2025-01-10,2025-03-10,CNY,1234567890.50"
    content = csv_file(*(row.format(n) for n in range(import_max_rows())))
    assert len(content) > 5 * 1024 * 1024
    read = []

    def stub(*, seller, actor, filename, content):
        read.append(len(content))
        return ImportReport(filename=filename, format="csv")

    monkeypatch.setattr("suppliers.api.import_view.invoices_import", stub)
    response = upload(content)
    assert response.status_code == 200, response.content[:200]
    assert read == [len(content)] and len(content) <= import_max_bytes()


def test_the_service_refuses_a_file_over_the_limit(chain, settings):
    settings.INVOICE_IMPORT_MAX_BYTES = 10
    with pytest.raises(ImportFileTooLarge):
        invoices_import(
            seller=chain.supplier,
            actor=chain.supplier_maker,
            filename="x.csv",
            content=csv_file(f"INV-1,{CORE_CODE},2025-01-10,2025-03-10,CNY,10.00"),
        )
    assert Invoice.objects.count() == 0


# Who may upload ---------------------------------------------------------------------------------


def test_the_supplier_admin_may_upload(upload, chain):
    response = upload(sample("ubl_invoice.xml"), user=chain.supplier_admin)
    assert response.json()["created"] == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CHECKER])
def test_a_viewer_or_checker_gets_403(upload, chain, role):
    written = Written()
    response = upload(sample("invoices.csv"), user=member(chain.supplier, role))
    assert response.status_code == 403
    assert written.now() == written.before


def test_a_bank_gets_403(upload, chain):
    assert chain.bank.kind == OrganizationKind.BANK
    written = Written()
    for user in (chain.bank_maker, chain.bank_admin):
        response = upload(sample("invoices.csv"), user=user, organization=chain.bank)
        assert response.status_code == 403
    assert written.now() == written.before


def test_not_signed_in_is_401(chain, client):
    written = Written()
    response = client.post(URL, {"file": SimpleUploadedFile("a.csv", sample("invoices.csv"))})
    assert response.status_code == 401
    assert written.now() == written.before


def test_a_core_enterprise_is_no_supplier_of_its_own_suppliers(upload, chain):
    """The core enterprise's maker may upload, but only invoices to those it supplies."""
    content = csv_file(f"C-1,{chain.supplier.credit_code},2025-01-10,2025-03-10,CNY,10.00")
    body = upload(content, user=chain.core_maker, organization=chain.core).json()
    assert body["created"] == 0
    assert body["rejected"][0]["errors"] == {
        "buyer_credit_code": ["You are not a supplier of this buyer."]
    }


def test_a_missing_file_field_is_400(api_as, chain):
    client = api_as(chain.supplier_maker, chain.supplier)
    response = client.post(URL, {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
