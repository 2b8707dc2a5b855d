"""Rendering and issuing documents. Each is rendered once with WeasyPrint in the language of the
organization it is addressed to, stored, and its SHA-256 recorded as a business event (so the
ledger holds it), in the transaction that stores it."""

import hashlib

from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from documents.models import Document, DocumentParty
from documents.registry import Draft, UnknownSubject, document_kind, subject_parse
from scf_platform.business_events import business_event_record, business_transaction


def _css_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_counter_css() -> str:
    """`content:` for the page box: the catalogue's "Page %(page)s of %(pages)s" with CSS
    counters in place of the placeholders, so each language orders the words its own way."""
    parts = []
    rest = _("Page %(page)s of %(pages)s")
    while rest:
        positions = [(rest.find(p), p) for p in ("%(page)s", "%(pages)s") if p in rest]
        if not positions:
            parts.append(_css_string(rest))
            break
        index, placeholder = min(positions)
        if index:
            parts.append(_css_string(rest[:index]))
        parts.append("counter(page)" if placeholder == "%(page)s" else "counter(pages)")
        rest = rest[index + len(placeholder) :]
    return " ".join(parts)


def document_number(kind: str, subject: str) -> str:
    _name, subject_id = subject_parse(subject)
    return f"{document_kind(kind).number_prefix}-{str(subject_id).zfill(6)}"


def _refuse_fetch(url: str, *args, **kwargs):
    # Documents are self-contained: nothing in one may make the renderer read a file or the
    # network (a name an organization typed is text, never a URL).
    raise ValueError(f"documents load no resources ({url})")


def document_draft(*, kind: str, subject: str) -> Draft:
    """The draft of the document of `kind` about `subject`, from the kind's own drafter."""
    registered = document_kind(kind)
    _name, subject_id = subject_parse(subject, kinds=[registered.subject])
    return registered.draft(subject_id)


def document_render(*, kind: str, subject: str) -> tuple[Draft, bytes]:
    """Build the document in its addressee's language and render it to PDF bytes."""
    draft = document_draft(kind=kind, subject=subject)
    # WeasyPrint takes about a second to import: only the process that renders pays for it,
    # not every web request or management command that loads the receivers.
    from weasyprint import HTML

    registered = document_kind(kind)
    with translation.override(draft.language):
        title = str(registered.label)
        number = document_number(kind, subject)
        html = render_to_string(
            registered.template_name,
            {
                **draft.context,
                "title": title,
                "number": number,
                "html_lang": "zh-Hans" if draft.language.startswith("zh") else "en",
                # Our own catalogue's words and digits, quoted for CSS: no organization's text.
                "css_header": mark_safe(_css_string(f"{title} · {number}")),  # noqa: S308
                "css_pages": mark_safe(_page_counter_css()),  # noqa: S308
            },
        )
        pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    return draft, pdf


def _file_name(kind: str, subject: str, digest: str) -> str:
    return f"{kind}-{subject.replace(':', '-')}-{digest[:16]}.pdf"


def document_issue(*, kind: str, subject: str) -> Document:
    """The document of `kind` about `subject`, issued once: an existing one is returned as it
    is (never re-rendered). A new one is rendered, stored under MEDIA_ROOT/documents/, and
    its SHA-256 sent as a `document.issued` business event in the transaction that stores it."""
    registered = document_kind(kind)
    subject_kind, subject_id = subject_parse(subject, kinds=[registered.subject])
    existing = Document.objects.filter(
        kind=kind, subject_kind=subject_kind, subject_id=subject_id
    ).first()
    if existing is not None:
        return existing
    draft, pdf = document_render(kind=kind, subject=subject)
    if draft.kind != kind or draft.subject != subject:
        raise UnknownSubject(f"the drafter of {kind} drafted {draft.kind} {draft.subject}")
    digest = hashlib.sha256(pdf).hexdigest()
    document = Document(
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        language=draft.language,
        sha256=digest,
        size=len(pdf),
    )
    document.file.save(_file_name(kind, subject, digest), ContentFile(pdf), save=False)
    parties: dict[int, str] = {}
    for role, organization in draft.parties.items():
        parties.setdefault(organization.pk, role)
    try:
        with business_transaction():
            document.save()
            DocumentParty.objects.bulk_create(
                DocumentParty(document=document, organization_id=organization_id, role=role)
                for organization_id, role in parties.items()
            )
            business_event_record(
                kind="document.issued",
                subject=f"document:{document.pk}",
                parties=draft.party_ids,
                payload={
                    "document": document.pk,
                    "kind": kind,
                    "sha256": digest,
                    "subject": subject,
                },
            )
    except IntegrityError:
        # Another delivery of the same task stored it first; keep theirs, drop our copy.
        document.file.storage.delete(document.file.name)
        winner = Document.objects.filter(
            kind=kind, subject_kind=subject_kind, subject_id=subject_id
        ).first()
        if winner is None:
            raise
        return winner
    return document
