"""Documents as a room of their own: it imports no room above it, its kinds come from the
registry the owning rooms fill, a document is about what the registry says it may be about, an
outsider gets 404 for any document, and the tasks keep the names the beat schedule calls."""

import ast
from pathlib import Path

import pytest
from django.test import Client

import documents
from documents.models import Document, DocumentParty
from documents.registry import UnknownKind, UnknownSubject, document_kind, document_kinds
from documents.services import document_issue
from financing.documents import DocumentKind
from scf_platform.celery import app
from scf_platform.models import Role
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice
from tests.factories import member
from tests.financing.factories import make_chain, submit_request

ROOT = Path(documents.__file__).resolve().parent
# The rooms documents may not import: everything of the project but scf_platform and itself.
HIGHER_OR_SIDE_ROOMS = {"financing", "suppliers", "warehouses", "telemetry", "ledger"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_documents_never_import_financing_nor_any_room_beside_it():
    files = sorted(ROOT.rglob("*.py"))
    assert ROOT / "registry.py" in files and ROOT / "services.py" in files
    offending = {
        f"{path.relative_to(ROOT.parent)}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in HIGHER_OR_SIDE_ROOMS
    }
    assert offending == set()


def test_the_owning_rooms_registered_every_kind_the_templates_draw():
    assert {kind.code for kind in document_kinds()} == set(DocumentKind.values)
    letter = document_kind(DocumentKind.CONFIRMATION_LETTER)
    assert (letter.subject, letter.issued_by) == ("invoice", ("invoice.confirmed",))
    assert document_kind(DocumentKind.FINANCING_AGREEMENT).template_name == (
        "documents/financing_agreement.html"
    )


@pytest.mark.django_db
def test_a_kind_or_subject_the_registry_does_not_know_is_refused_and_writes_nothing():
    chain = make_chain(prefix="Refused ")
    invoice = chain.invoice("1000.00")
    with pytest.raises(UnknownKind):
        document_issue(kind="promissory_note", subject=f"invoice:{invoice.pk}")
    for subject in (
        f"request:{invoice.pk}",  # a letter is about an invoice, never a request
        f"lot:{invoice.pk}",
        "invoice:",
        "invoice:seven",
        f"invoice:{invoice.pk + 1000}",
    ):
        with pytest.raises(UnknownSubject):
            document_issue(kind=DocumentKind.CONFIRMATION_LETTER, subject=subject)
    assert not Document.objects.exists() and not DocumentParty.objects.exists()


@pytest.fixture
def letter(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    chain = make_chain(prefix="Download ")
    invoice = chain.invoice("7000.00")
    return chain, document_issue(
        kind=DocumentKind.CONFIRMATION_LETTER, subject=f"invoice:{invoice.pk}"
    )


def portal_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["supplier", "core enterprise", "bank"])
def test_an_outsider_gets_404_on_downloading_a_letter(letter, api_as, who):
    chain, document = letter
    other = make_chain(prefix="Outsider ")
    organization = {"supplier": other.supplier, "core enterprise": other.core, "bank": other.bank}[
        who
    ]
    user = member(organization, Role.ADMIN)
    assert portal_client(user).get(f"/portal/documents/{document.pk}.pdf").status_code == 404
    client = api_as(user, organization)
    for url, accept in (
        (f"/api/v1/documents/{document.pk}/download/", "application/pdf"),
        (f"/api/v1/documents/{document.pk}/", "application/json"),
    ):
        response = client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 404, url
        assert document.sha256 not in response.content.decode(errors="replace")
    # Its parties download it.
    for user, organization in (
        (chain.supplier_maker, chain.supplier),
        (chain.core_checker, chain.core),
    ):
        response = api_as(user, organization).get(f"/api/v1/documents/{document.pk}/download/")
        assert response.status_code == 200
        assert response["X-Document-SHA256"] == document.sha256
        assert portal_client(user).get(f"/portal/documents/{document.pk}.pdf").status_code == 200


@pytest.mark.django_db
def test_a_request_route_serves_only_a_requests_kinds(letter):
    chain, document = letter
    request = submit_request(chain, [Invoice.objects.get(pk=document.subject_id)], "6000.00")
    portal = portal_client(chain.supplier_maker)
    assert portal.get(f"/portal/requests/{request.pk}/").status_code == 200
    # The letter is the invoice's; no request route serves it, nor a kind nobody registered.
    for kind in ("confirmation_letter", "promissory_note"):
        url = f"/portal/requests/{request.pk}/documents/{kind}.pdf"
        assert portal.get(url).status_code == 404, url


@pytest.mark.django_db
def test_row_level_security_hides_the_parties_rows_of_other_organizations(letter):
    chain, document = letter
    other = make_chain(prefix="Party RLS ")
    # No visible_to(): the database's own policies are what is under test.
    with scope_activated(Scope(organization_id=other.supplier.pk)):
        assert not DocumentParty.objects.filter(document_id=document.pk).exists()
        assert not Document.objects.filter(pk=document.pk).exists()
    with scope_activated(Scope(organization_id=chain.core.pk)):
        # A party sees its own row of the parties, and the document.
        assert list(
            DocumentParty.objects.filter(document_id=document.pk).values_list("role", flat=True)
        ) == ["buyer"]
        assert Document.objects.filter(pk=document.pk).exists()


def test_the_tasks_keep_the_names_the_beat_schedule_and_queued_messages_use():
    app.loader.import_default_modules()
    assert "financing.document_tasks.issue_document" in app.tasks
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
