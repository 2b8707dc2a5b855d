"""Hostile input: each is refused or neutralised, and nothing is written.

Already proved elsewhere, and not repeated here:
- tests/suppliers/test_imports.py: a file over the upload limit (413, by size and by declared
  length), billion laughs and external entities in UBL XML, malformed CSV/XML, too many rows,
  look-alike invoice numbers in a CSV, `1e3` in a CSV amount;
- tests/financing/test_api_matrix.py: invoice and requested amounts with three decimals, in
  exponent form, signed, NaN or Infinity, as JSON strings and numbers; a full-width number.

Added here: amounts of the other money-taking endpoints (repayment, program limits, sub-limit),
amounts of a UBL invoice, more look-alikes in numbers (over the API) and in buyers' credit codes,
an oversized JSON body, an XML body sent to the JSON API, and CSV formula injection. Nothing in
the platform exports CSV today (no `text/csv` answer, no csv writer outside the import reader):
`test_nothing_exports_csv_yet` fails the day something does, so that its export gets a
formula-injection test and neutralisation (prefix `=`, `+`, `-`, `@`, tab, CR with `'`).
"""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from financing.models import FinancingRequest, Program, ProgramParticipant, Repayment
from scf_platform.api.parsers import MAX_JSON_DEPTH, DepthLimitedJSONParser, json_nesting_check
from scf_platform.models import Organization, OrganizationKind
from suppliers.models import Invoice, InvoiceEvent
from tests.conftest import ActingClient
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain, today
from tests.reliability.world import request_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "suppliers" / "samples"
BAD_AMOUNTS = ["1000.005", "1e3", "1E+3", "1.5e2", "0x10", "1_000.00", "１０００.00", "Infinity"]
# Past NUMERIC(18, 2): 17 digits before the point, and more digits than Decimal's precision (28).
TOO_LARGE = ["12345678901234567", "54742446394352177655595695152824320"]


def written() -> dict:
    return {
        "invoices": Invoice.objects.count(),
        "invoice_events": InvoiceEvent.objects.count(),
        "programs": list(Program.objects.values_list("pk", "utilized", "credit_limit")),
        "participants": list(ProgramParticipant.objects.values_list("pk", "limit", "utilized")),
        "repayments": Repayment.objects.count(),
        "requests": list(
            FinancingRequest.objects.values_list("pk", "status", "repaid_amount", "reserved_amount")
        ),
    }


@pytest.fixture
def chain():
    return make_chain()


# Amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", BAD_AMOUNTS + TOO_LARGE)
def test_a_repayment_amount_not_written_plainly_with_two_decimals_is_400(chain, amount):
    request = request_in(chain, "disbursed")
    before = written()
    response = ActingClient(chain.core_maker, chain.core).post(
        f"/api/v1/financing-requests/{request.pk}/repayments/",
        {"amount": amount, "paid_on": today().isoformat()},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "amount" in response.json()
    assert written() == before


@pytest.mark.parametrize("field", ["credit_limit", "dual_approval_threshold"])
@pytest.mark.parametrize("amount", ["1000000.001", "1e6", "1E+6", *TOO_LARGE])
def test_a_program_limit_not_written_plainly_is_400(chain, field, amount):
    before = written()
    body = {
        "name": "Hostile Program",
        "core_enterprise": chain.core.pk,
        "currency": "CNY",
        "credit_limit": "1000000.00",
        "advance_rate": "0.80",
        "annual_rate": "0.05",
        "day_count": "ACT/360",
        "max_tenor_days": 90,
        "dual_approval_threshold": "500000.00",
        "products": ["receivables"],
        field: amount,
    }
    response = ActingClient(chain.bank_admin, chain.bank).post(
        "/api/v1/programs/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert written() == before


@pytest.mark.parametrize("amount", ["5000.001", "5e3"])
def test_a_sub_limit_not_written_plainly_is_400(chain, amount):
    newcomer = OrganizationFactory(name="Newcomer")
    before = written()
    response = ActingClient(chain.core_maker, chain.core).post(
        f"/api/v1/programs/{chain.program.pk}/participants/",
        {"organization": newcomer.pk, "role": "supplier", "limit": amount},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "limit" in response.json()
    assert written() == before


@pytest.mark.parametrize("amount", ["113000.005", "1.13e5", "113,000.00", "-113000.00"])
def test_a_ubl_payable_amount_not_written_plainly_is_a_rejected_row(chain, amount):
    Organization.objects.filter(pk=chain.core.pk).update(credit_code="913100007700000099")
    xml = (SAMPLES / "ubl_invoice.xml").read_bytes()
    xml = re.sub(
        rb">113000\.00</cbc:PayableAmount>", f">{amount}</cbc:PayableAmount>".encode(), xml
    )
    assert amount.encode() in xml
    before = written()
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/import/",
        {"file": SimpleUploadedFile("invoice.xml", xml)},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["created"] == 0
    assert "amount" in report["rejected"][0]["errors"]
    assert written() == before


# Look-alikes -----------------------------------------------------------------------------------

LOOK_ALIKES = [
    "INV\u2010001",  # a hyphen that is not "-"
    "\u0406NV-001",  # Cyrillic І
    "INV-00\u0031\u0301",  # a combining accent
    "INV-001\u200b",  # a zero-width space
    "INV\u00a0001",  # a no-break space
    "INV-\u0660\u0661",  # Arabic-Indic digits
    "INV-001\u202e",  # a right-to-left override
]


@pytest.mark.parametrize("number", LOOK_ALIKES)
def test_a_look_alike_invoice_number_over_the_api_is_400_never_a_twin(chain, number):
    chain.invoice(number="INV-001", confirm=False)
    before = written()
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/",
        {
            "number": number,
            "buyer": chain.core.pk,
            "issue_date": today().isoformat(),
            "due_date": (today() + timedelta(days=30)).isoformat(),
            "currency": "CNY",
            "amount": "100.00",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "number" in response.json()
    assert written() == before


def test_a_look_alike_buyer_credit_code_in_a_csv_names_no_buyer(chain):
    code = chain.core.credit_code
    fullwidth = code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    cyrillic = code.replace("1", "\u0031\u0336", 1)
    rows = [
        f"LA-{i},{bad},{today()},{today() + timedelta(days=30)},CNY,100.00"
        for i, bad in enumerate([fullwidth, cyrillic, f"{code}\u200b", f" {code.lower()}x"])
    ]
    content = "\n".join(["number,buyer_credit_code,issue_date,due_date,currency,amount", *rows])
    before = written()
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/import/",
        {"file": SimpleUploadedFile("invoices.csv", content.encode())},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["created"] == 0
    assert [set(r["errors"]) for r in report["rejected"]] == [{"buyer_credit_code"}] * len(rows)
    assert written() == before


# Bodies ----------------------------------------------------------------------------------------


def test_an_oversized_json_body_is_refused_not_parsed(chain, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    before = written()
    body = json.dumps(
        {
            "number": "BIG-1",
            "buyer": chain.core.pk,
            "issue_date": today().isoformat(),
            "due_date": today().isoformat(),
            "currency": "CNY",
            "amount": "100.00",
            "padding": "x" * (128 * 1024),
        }
    )
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/", body, content_type="application/json"
    )
    assert response.status_code == 413, response.content[:300]
    assert written() == before
    # Under the limit, the same request is taken.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content[:300]


def test_xml_sent_to_the_json_api_is_415_and_its_entities_are_never_expanded(chain):
    before = written()
    response = ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/",
        (SAMPLES / "billion_laughs.xml").read_bytes(),
        content_type="application/xml",
    )
    assert response.status_code == 415
    assert written() == before


# CSV formula injection -------------------------------------------------------------------------

PRODUCT = ["scf_platform", "suppliers", "financing", "ledger", "telemetry", "templates"]
CSV_WRITERS = re.compile(r"csv\.writer|csv\.DictWriter|text/csv|\.csv\"|\.csv'")


def test_nothing_exports_csv_yet():
    """The day something answers CSV, this fails: give that export a formula-injection test
    (cells starting with = + - @ tab or CR are prefixed with ') and take it out of here."""
    found = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*"):
            if path.suffix not in {".py", ".html"} or "migrations" in path.parts:
                continue
            if path.relative_to(ROOT).as_posix() == "suppliers/imports.py":
                continue  # reads CSV, writes none
            text = path.read_text(errors="replace")
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in CSV_WRITERS.finditer(text)]
    assert not found, f"something writes CSV now; test it for formula injection: {found}"


# Depth, NUL bytes, encodings (issue 12, item 7) ------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000


def _json_views():
    """Every DRF view the URL configuration reaches."""
    pending, found = list(get_resolver().url_patterns), set()
    while pending:
        entry = pending.pop()
        if isinstance(entry, URLResolver):
            pending.extend(entry.url_patterns)
        elif getattr(entry.callback, "cls", None) is not None:
            found.add(entry.callback.cls)
    return sorted(found, key=lambda view: f"{view.__module__}.{view.__qualname__}")


def test_every_json_parser_of_the_api_limits_nesting():
    views = _json_views()
    assert len(views) > 10
    unlimited = [
        f"{view.__module__}.{view.__qualname__}: {type(parser).__name__}"
        for view in views
        for parser in view().get_parsers()
        if "json" in parser.media_type and not isinstance(parser, DepthLimitedJSONParser)
    ]
    assert unlimited == []


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"username": ' + DEEP + ', "password": "x"}'],
    ids=["bare", "in-a-field"],
)
def test_json_nested_a_thousand_deep_is_400_on_the_unauthenticated_token_endpoint(body):
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "nested deeper than" in response.json()["detail"]


def test_json_nested_a_thousand_deep_is_400_where_the_api_takes_json(chain):
    operator = OrganizationFactory(kind=OrganizationKind.OPERATOR)
    before = written()
    for user, organization, path in (
        (chain.supplier_maker, chain.supplier, "/api/v1/invoices/"),  # the exact-amount parser
        (member(operator), operator, "/api/v1/organizations/"),  # DRF's default parsers
    ):
        body = '{"name": ' + DEEP + "}"
        response = ActingClient(user, organization).post(
            path, body, content_type="application/json"
        )
        assert response.status_code == 400, (path, response.content[:300])
        assert "nested deeper than" in response.json()["detail"]
    assert written() == before


def test_json_nesting_at_the_limit_is_parsed():
    json_nesting_check("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    # Brackets inside strings are text, escaped quotes included.
    json_nesting_check(json.dumps({"note": "[" * 5000 + '\\"{' * 100}))
    with pytest.raises(ParseError):
        json_nesting_check("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def _import(chain, name: str, content: bytes):
    return ActingClient(chain.supplier_maker, chain.supplier).post(
        "/api/v1/invoices/import/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_a_csv_with_a_nul_byte_is_400_and_lands_nothing(chain):
    header = "number,buyer_credit_code,issue_date,due_date,currency,amount"
    row = f"NUL-\x001,{chain.core.credit_code},{today()},{today() + timedelta(days=30)},CNY,100.00"
    before = written()
    response = _import(chain, "invoices.csv", f"{header}\n{row}\n".encode())
    assert response.status_code == 400, response.content[:300]
    assert "NUL" in json.dumps(response.json())
    assert written() == before


@pytest.mark.parametrize("encoding", ["UTF-7", "UTF-32"])
def test_ubl_declaring_an_encoding_expat_cannot_read_is_400(chain, encoding):
    content = (SAMPLES / "ubl_invoice.xml").read_bytes()
    declared = re.sub(rb'encoding="[^"]*"', f'encoding="{encoding}"'.encode(), content, count=1)
    assert declared != content
    before = written()
    response = _import(chain, "invoice.xml", declared)
    assert response.status_code == 400, response.content[:300]
    assert encoding in json.dumps(response.json())
    assert written() == before
