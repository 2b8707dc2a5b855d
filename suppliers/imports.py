"""Bulk invoice upload: a CSV file or one UBL 2.1 Invoice read into rows, good rows landed."""

import csv
import io
import re
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.conf import settings
from django.utils.translation import gettext as _

from scf_platform.models import Organization
from scf_platform.money import parse_money
from scf_platform.policy import may_upload_invoices, membership_of, require
from suppliers.models import Invoice, InvoiceSource
from suppliers.selectors import buyers_supplied, numbers_uploaded
from suppliers.services import (
    InvoiceDraft,
    already_uploaded_message,
    invoice_errors,
    invoices_create_many,
)

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
CSV_HEADER = ("number", "buyer_credit_code", "issue_date", "due_date", "currency", "amount")
UTF8_BOM = b"\xef\xbb\xbf"
# [0-9], not \d: \d also matches the digits of other scripts ("２０２５").
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

UBL_INVOICE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
UBL_NAMESPACES = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
# What the file calls the buyer; invoice_errors reports it as "buyer".
BUYER_FIELD = "buyer_credit_code"


def import_max_bytes() -> int:
    return getattr(settings, "INVOICE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def import_max_rows() -> int:
    return getattr(settings, "INVOICE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


class ImportFileError(Exception):
    """The file as a whole cannot be read (malformed, hostile, neither CSV nor UBL): nothing
    lands. `code` is stable; clients may branch on it."""

    code = "unreadable_file"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ImportFileTooLarge(ImportFileError):
    code = "file_too_large"

    @classmethod
    def over(cls, max_bytes: int) -> "ImportFileTooLarge":
        return cls(_("The file is larger than %(max)d bytes.") % {"max": max_bytes})


@dataclass
class ImportRow:
    """One invoice as the file wrote it: text, not yet parsed. `buyer_credit_codes` are the
    candidates in order of preference (a UBL customer names itself in two places); `errors` are
    what reading the file already found wrong with the row."""

    row: int
    number: str = ""
    buyer_credit_codes: tuple[str, ...] = ()
    issue_date: str = ""
    due_date: str = ""
    currency: str = ""
    amount: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RowRejection:
    row: int
    errors: dict[str, list[str]]


@dataclass
class ImportReport:
    """What an import did. Rows are numbered from 1: the k-th data row after the CSV header, or
    1 for the one invoice of a UBL file."""

    filename: str
    format: str
    invoice_ids: list[int] = field(default_factory=list)
    rejected: list[RowRejection] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.invoice_ids)


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


# Reading: bytes -> rows -------------------------------------------------------------------------


def looks_like_xml(content: bytes) -> bool:
    """XML begins with `<` after an optional UTF-8 byte order mark and white space."""
    if content.startswith(UTF8_BOM):
        content = content[len(UTF8_BOM) :]
    return content.lstrip(b" \t\r\n").startswith(b"<")


def invoice_rows_read(content: bytes) -> tuple[str, list[ImportRow]]:
    """The format (`csv` or `ubl`, told by the content, not the file name) and the rows."""
    if looks_like_xml(content):
        return "ubl", ubl_rows_read(content)
    return "csv", csv_rows_read(content)


def csv_rows_read(content: bytes) -> list[ImportRow]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is neither a UTF-8 CSV file nor a UBL XML invoice."), code="unknown_format"
        ) from None
    if "\x00" in text:
        # The csv module reads NUL as a character; the database refuses it in text (a 500).
        raise ImportFileError(
            _("The file contains a NUL byte (line %(line)d): it is not a text CSV file.")
            % {"line": text.count("\n", 0, text.index("\x00")) + 1},
            code="nul_byte",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    max_rows = import_max_rows()
    rows: list[ImportRow] = []
    try:
        header = next(reader, None)
        _csv_header_check(header)
        for index, record in enumerate(reader, start=1):
            if index > max_rows:
                raise ImportFileError(
                    _("The file has more than %(max)d rows; split it into smaller files.")
                    % {"max": max_rows},
                    code="too_many_rows",
                )
            if not any(cell.strip() for cell in record):
                # Blank lines (spreadsheets leave them at the end) are counted, never landed.
                continue
            if len(record) != len(CSV_HEADER):
                row = ImportRow(row=index)
                _add(
                    row.errors,
                    "non_field_errors",
                    _("This row has %(found)d columns; the header has %(expected)d.")
                    % {"found": len(record), "expected": len(CSV_HEADER)},
                )
                rows.append(row)
                continue
            number_text, code, issue_date, due_date, currency, amount = record
            code = code.strip()
            rows.append(
                ImportRow(
                    row=index,
                    number=number_text,
                    buyer_credit_codes=(code,) if code else (),
                    issue_date=issue_date,
                    due_date=due_date,
                    currency=currency.strip(),
                    amount=amount,
                )
            )
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file cannot be read (line %(line)d): %(error)s")
            % {"line": reader.line_num, "error": error},
            code="malformed_csv",
        ) from None
    return rows


def _csv_header_check(header: list[str] | None) -> None:
    expected = ",".join(CSV_HEADER)
    if header is None:
        raise ImportFileError(
            _("The file is empty; its first line must be the header %(header)s.")
            % {"header": expected},
            code="csv_header",
        )
    found = tuple(cell.strip() for cell in header)
    if found == CSV_HEADER:
        return
    missing = [name for name in CSV_HEADER if name not in found]
    extra = [name for name in found if name not in CSV_HEADER]
    details = []
    if missing:
        details.append(_("missing: %(names)s") % {"names": ", ".join(missing)})
    if extra:
        details.append(_("unexpected: %(names)s") % {"names": ", ".join(extra)})
    if not details:
        details.append(_("the columns are out of order"))
    raise ImportFileError(
        _("The first line must be exactly the header %(header)s (%(details)s).")
        % {"header": expected, "details": "; ".join(details)},
        code="csv_header",
    )


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def _declared_encoding(content: bytes) -> str:
    match = _XML_ENCODING.match(content)
    return match.group(1).decode("ascii") if match else "?"


def ubl_rows_read(content: bytes) -> list[ImportRow]:
    """One UBL 2.1 Invoice (as PEPPOL BIS Billing 3.0 writes it) as row 1."""
    try:
        root = SafeElementTree.fromstring(
            content, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise ImportFileError(
            _(
                "Hostile XML: document type declarations, entities and external references are "
                "refused."
            ),
            code="hostile_xml",
        ) from None
    except (SafeElementTree.ParseError, LookupError) as error:
        raise ImportFileError(
            _("The XML is not well-formed: %(error)s") % {"error": error}, code="malformed_xml"
        ) from None
    except ValueError as error:
        # Expat reads only single-byte encodings besides UTF-8 and UTF-16: "UTF-7" lands here.
        raise ImportFileError(
            _(
                "The XML declares the encoding %(encoding)s, which cannot be read (%(error)s); "
                "save it as UTF-8."
            )
            % {"encoding": _declared_encoding(content), "error": error},
            code="xml_encoding",
        ) from None
    if root.tag == UBL_CREDIT_NOTE_ROOT:
        raise ImportFileError(_("A credit note is not an invoice."), code="credit_note")
    if root.tag != UBL_INVOICE_ROOT:
        raise ImportFileError(
            _("The XML is not a UBL 2.1 Invoice (its root element is %(tag)s).")
            % {"tag": root.tag},
            code="not_an_invoice",
        )

    def text(element, path: str) -> str:
        found = element.find(path, UBL_NAMESPACES) if element is not None else None
        return (found.text or "").strip() if found is not None else ""

    row = ImportRow(row=1)
    row.number = text(root, "cbc:ID")
    row.issue_date = text(root, "cbc:IssueDate")
    row.due_date = text(root, "cbc:DueDate") or next(
        (
            (element.text or "").strip()
            for element in root.findall("cac:PaymentMeans/cbc:PaymentDueDate", UBL_NAMESPACES)
            if (element.text or "").strip()
        ),
        "",
    )
    row.currency = text(root, "cbc:DocumentCurrencyCode")
    payable = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NAMESPACES)
    if payable is not None:
        row.amount = (payable.text or "").strip()
        amount_currency = (payable.get("currencyID") or "").strip()
        if amount_currency and row.currency and amount_currency != row.currency:
            _add(
                row.errors,
                "amount",
                _("The payable amount is in %(amount)s but the invoice currency is %(invoice)s.")
                % {"amount": amount_currency, "invoice": row.currency},
            )
    party = root.find("cac:AccountingCustomerParty/cac:Party", UBL_NAMESPACES)
    codes = [text(party, "cac:PartyLegalEntity/cbc:CompanyID")]
    if party is not None:
        codes += [
            (element.text or "").strip()
            for element in party.findall("cac:PartyTaxScheme/cbc:CompanyID", UBL_NAMESPACES)
        ]
    row.buyer_credit_codes = tuple(dict.fromkeys(code for code in codes if code))

    elements = {
        "number": "cbc:ID",
        "issue_date": "cbc:IssueDate",
        "due_date": "cbc:DueDate or cac:PaymentMeans/cbc:PaymentDueDate",
        "currency": "cbc:DocumentCurrencyCode",
        "amount": "cac:LegalMonetaryTotal/cbc:PayableAmount",
    }
    for name, path in elements.items():
        if not getattr(row, name):
            _add(row.errors, name, _("The invoice has no %(element)s.") % {"element": path})
    if not row.buyer_credit_codes:
        _add(
            row.errors,
            BUYER_FIELD,
            _(
                "The customer party has no cac:PartyLegalEntity/cbc:CompanyID or "
                "cac:PartyTaxScheme/cbc:CompanyID."
            ),
        )
    return [row]


# Parsing one row's text into an invoice's values ---------------------------------------------


def parse_iso_date(text: str) -> date:
    text = text.strip()
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


@dataclass(slots=True)
class _RowValues:
    row: int
    buyer: Organization | None
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    errors: dict[str, list[str]]
    # Fields that failed to parse: the rules see a harmless stand-in for them, and what they
    # say about it is not reported.
    unparsed: set[str]

    def rule_errors(self, *, supplied: Set[int], already_uploaded: bool) -> dict[str, list[str]]:
        """invoice_errors for this row, named as the file names the fields."""
        errors = invoice_errors(
            buyer=self.buyer,
            supplies_buyer=self.buyer is not None and self.buyer.pk in supplied,
            number=self.number,
            already_uploaded=already_uploaded,
            issue_date=self.issue_date,
            due_date=self.due_date,
            currency=self.currency,
            amount=self.amount,
        )
        return {
            (BUYER_FIELD if key == "buyer" else key): messages
            for key, messages in errors.items()
            if key not in self.unparsed
        }


class _RowParser:
    """Turns rows' text into values. Dates are remembered: a file repeats the same few."""

    def __init__(self, buyers: dict[str, Organization]) -> None:
        self.buyers = buyers
        self.dates: dict[str, date] = {}
        self.number_max_length = Invoice._meta.get_field("number").max_length

    def parse(self, row: ImportRow) -> _RowValues:
        errors = {key: list(messages) for key, messages in row.errors.items()}
        unparsed = {"buyer" if key == BUYER_FIELD else key for key in errors}

        def refuse(name: str, message: str | None = None) -> None:
            """No `message`: the field is required (which reading the file may have said
            already, in its own words)."""
            unparsed.add("buyer" if name == BUYER_FIELD else name)
            if message is None:
                if name in errors:
                    return
                message = _("This field is required.")
            _add(errors, name, message)

        number = row.number.strip()
        if len(number) > self.number_max_length:
            refuse(
                "number",
                _("An invoice number has at most %(max)d characters.")
                % {"max": self.number_max_length},
            )
        if not row.buyer_credit_codes:
            refuse(BUYER_FIELD)
        buyer = None
        for code in row.buyer_credit_codes:
            if code in self.buyers:
                buyer = self.buyers[code]
                break
        currency = row.currency.strip()
        if not currency:
            refuse("currency")

        issue_date = self._date(row.issue_date, "issue_date", refuse)
        due_date = self._date(row.due_date, "due_date", refuse)
        # A stand-in that can never put the due date before the issue date.
        stand_in = issue_date or due_date or date(2000, 1, 1)

        amount = Decimal("1")
        if not row.amount.strip():
            refuse("amount")
        else:
            try:
                amount = parse_money(row.amount)
            except ValueError:
                refuse(
                    "amount",
                    _(
                        "Enter a positive amount like 1234.50: digits and at most two decimals, "
                        "no sign, exponent or thousands separator."
                    ),
                )
        return _RowValues(
            row=row.row,
            buyer=buyer,
            number=number,
            issue_date=issue_date or stand_in,
            due_date=due_date or stand_in,
            currency=currency,
            amount=amount,
            errors=errors,
            unparsed=unparsed,
        )

    def _date(self, text: str, name: str, refuse) -> date | None:
        if text in self.dates:
            return self.dates[text]
        if not text.strip():
            refuse(name)
            return None
        try:
            parsed = self.dates[text] = parse_iso_date(text)
        except ValueError:
            refuse(name, _("Enter a date as YYYY-MM-DD."))
            return None
        return parsed


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> dict[str, list[str]]:
    for key, messages in more.items():
        for message in messages:
            if message not in errors.get(key, []):
                _add(errors, key, message)
    return errors


def _buyers_by_credit_code(rows: list[ImportRow]) -> dict[str, Organization]:
    length = Organization._meta.get_field("credit_code").max_length
    codes = {code for row in rows for code in row.buyer_credit_codes if len(code) <= length}
    return {
        organization.credit_code: organization
        for organization in Organization.objects.filter(credit_code__in=codes)
    }


# Landing ----------------------------------------------------------------------------------------


def invoices_import(*, seller: Organization, actor, filename: str, content: bytes) -> ImportReport:
    """Read a CSV or UBL file of the seller's invoices and land every good row; bad rows are
    reported with their field errors and write nothing.

    The rules are invoice_create's (invoice_errors), with what they need from the database
    asked once for the file; the good rows land together (invoices_create_many), and a row whose
    number someone else uploads meanwhile is reported as already uploaded.

    Raises ImportFileTooLarge or ImportFileError (before anything is written) when the file as a
    whole cannot be taken. Runs in the caller's transaction.
    """
    require(may_upload_invoices, membership_of(actor, seller))
    max_bytes = import_max_bytes()
    if len(content) > max_bytes:
        raise ImportFileTooLarge.over(max_bytes)
    file_format, rows = invoice_rows_read(content)
    source = InvoiceSource.UBL if file_format == "ubl" else InvoiceSource.CSV
    report = ImportReport(filename=filename, format=file_format)

    buyers = _buyers_by_credit_code(rows)
    supplied = buyers_supplied(seller=seller, buyer_ids=[buyer.pk for buyer in buyers.values()])
    uploaded = numbers_uploaded(
        seller=seller, numbers={number for row in rows if (number := row.number.strip())}
    )
    parser = _RowParser(buyers)
    drafts: list[tuple[int, InvoiceDraft]] = []
    # Rows repeating a number of an earlier row: whether that number is uploaded (which the
    # rules report too) is known once the earlier row has landed or not.
    repeats: list[_RowValues] = []
    first_row_of: dict[str, int] = {}
    for row in rows:
        if "non_field_errors" in row.errors:
            # The row's shape is wrong (its columns): its fields cannot be told apart.
            report.rejected.append(RowRejection(row=row.row, errors=row.errors))
            continue
        values = parser.parse(row)
        number = values.number
        if number in first_row_of:
            _add(
                values.errors,
                "number",
                _("Invoice number %(number)s is already in row %(row)d of this file.")
                % {"number": number, "row": first_row_of[number]},
            )
            report.rejected.append(RowRejection(row=row.row, errors=values.errors))
            repeats.append(values)
            continue
        if number:
            first_row_of[number] = row.row
        errors = _merge(
            values.errors,
            values.rule_errors(supplied=supplied, already_uploaded=number in uploaded),
        )
        if errors:
            report.rejected.append(RowRejection(row=row.row, errors=errors))
            continue
        draft = InvoiceDraft(
            seller_id=seller.pk,
            buyer_id=values.buyer.pk,
            number=number,
            issue_date=values.issue_date,
            due_date=values.due_date,
            currency=values.currency,
            amount=values.amount,
        )
        drafts.append((row.row, draft))

    landed = invoices_create_many(
        seller=seller, actor=actor, source=source, drafts=[draft for _, draft in drafts]
    )
    for row_number, draft in drafts:
        if draft.pk is None:
            # Uploaded by someone else since the numbers were looked up: the constraint decided.
            report.rejected.append(
                RowRejection(
                    row=row_number, errors={"number": [already_uploaded_message(draft.number)]}
                )
            )
        uploaded.add(draft.number)
    for values in repeats:
        _merge(
            values.errors,
            values.rule_errors(supplied=supplied, already_uploaded=values.number in uploaded),
        )
    report.invoice_ids = [draft.pk for draft in landed]
    report.rejected.sort(key=lambda rejection: rejection.row)
    return report
