"""Serving issued documents in the portal, to their parties only, from storage (never
re-rendered)."""

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from documents.models import Document
from documents.registry import UnknownKind, document_kind, subject_visible
from documents.selectors import document_of_subject, document_visible
from scf_platform.views import acting_required


def document_file_response(document: Document) -> FileResponse:
    response = FileResponse(
        document.file.open("rb"),
        content_type="application/pdf",
        filename=f"{document.kind}-{document.subject_kind}-{document.subject_id}.pdf",
    )
    # The digest a party checks the file against the ledger with.
    response["X-Document-SHA256"] = document.sha256
    response["Cache-Control"] = "private, no-store"
    return response


@acting_required
def document_download(request, pk: int):
    document = document_visible(organization=request.acting.organization, pk=pk)
    if document is None:
        raise Http404
    return document_file_response(document)


@acting_required
def request_document_download(request, pk: int, kind: str):
    """A request's document by kind (the request page links them so)."""
    organization = request.acting.organization
    try:
        registered = document_kind(kind)
    except UnknownKind:
        raise Http404 from None
    if registered.subject != "request" or not subject_visible(
        organization=organization, subject="request", pk=pk
    ):
        raise Http404
    document = document_of_subject(organization=organization, kind=kind, subject=f"request:{pk}")
    if document is None:
        raise Http404(_("This document is not issued yet."))
    return document_file_response(document)
