"""Serving issued documents, to their parties only, from storage (never re-rendered): the portal's
download, the API's metadata and download, and the financing agreement of a request."""

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from financing import documents
from financing.models import Document, DocumentKind
from scf_platform.api.permissions import ActsForOrganization
from scf_platform.api.views import ActingAPIView
from scf_platform.views import acting_required


def _pdf(document: Document) -> FileResponse:
    response = FileResponse(
        document.file.open("rb"),
        content_type="application/pdf",
        filename=f"{document.kind}-{document.subject.replace(':', '-')}.pdf",
    )
    # The digest a party checks the file against the ledger with.
    response["X-Document-SHA256"] = document.sha256
    response["Cache-Control"] = "private, no-store"
    return response


# Portal ---------------------------------------------------------------------------------------


@acting_required
def document_download(request, pk: int):
    document = documents.document_visible(organization=request.acting.organization, pk=pk)
    if document is None:
        raise Http404
    return _pdf(document)


@acting_required
def request_document_download(request, pk: int, kind: str):
    """A request's document by kind (the request page links them so)."""
    organization = request.acting.organization
    financing_request = documents.request_visible(organization=organization, pk=pk)
    if financing_request is None or kind not in DocumentKind.values:
        raise Http404
    document = documents.request_document(
        organization=organization, request=financing_request, kind=kind
    )
    if document is None:
        raise Http404(_("This document is not issued yet."))
    return _pdf(document)


# API ------------------------------------------------------------------------------------------


class FirstRenderer(BaseContentNegotiation):
    """A file endpoint answers with the file whatever the client accepts (an `Accept:
    application/pdf` must not be a 406); its errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DocumentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()
    ledger_subject = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "subject",
            "request",
            "invoice",
            "language",
            "sha256",
            "size",
            "created_at",
            "download",
            "ledger_subject",
        ]
        read_only_fields = fields

    def get_download(self, document) -> str:
        return reverse("api:document-download", args=[document.pk])

    def get_ledger_subject(self, document) -> str:
        # The subject of the `document.issued` ledger entry that holds `sha256`.
        return f"document:{document.pk}"


class DocumentAPIView(ActingAPIView):
    permission_classes = [*ActingAPIView.permission_classes, ActsForOrganization]

    def document(self, pk: int) -> Document:
        document = documents.document_visible(organization=self.organization, pk=pk)
        if document is None:
            raise Http404
        return document


class DocumentDetailView(DocumentAPIView):
    @extend_schema(
        operation_id="documents_retrieve",
        responses=DocumentSerializer,
        description="An issued document's metadata, with the SHA-256 of its file.",
    )
    def get(self, request, pk: int):
        return Response(DocumentSerializer(self.document(pk)).data)


class DocumentDownloadView(DocumentAPIView):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="documents_download",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The issued PDF, as stored; its SHA-256 is in X-Document-SHA256.",
    )
    def get(self, request, pk: int):
        return _pdf(self.document(pk))


class FinancingAgreementView(DocumentAPIView):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="financing_requests_agreement",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The request's financing agreement, issued at disbursement; 404 with code "
        "`not_issued` until it is.",
    )
    def get(self, request, pk: int):
        financing_request = documents.request_visible(organization=self.organization, pk=pk)
        if financing_request is None:
            raise Http404
        document = documents.request_document(
            organization=self.organization,
            request=financing_request,
            kind=DocumentKind.FINANCING_AGREEMENT,
        )
        if document is None:
            return Response(
                {"detail": _("The financing agreement is not issued yet."), "code": "not_issued"},
                status=404,
            )
        return _pdf(document)
