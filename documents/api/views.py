"""The API's documents: metadata and download of an issued document, and a request's financing
agreement, to their parties only (404 for anyone else), from storage."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from documents.api.serializers import DocumentSerializer
from documents.models import Document
from documents.registry import subject_visible
from documents.selectors import document_of_subject, document_visible
from documents.views import document_file_response
from scf_platform.api.permissions import ActsForOrganization
from scf_platform.api.views import ActingAPIView

# The kind the contract's `.../agreement.pdf` serves (registered by financing).
FINANCING_AGREEMENT = "financing_agreement"


class FirstRenderer(BaseContentNegotiation):
    """A file endpoint answers with the file whatever the client accepts (an `Accept:
    application/pdf` must not be a 406); its errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DocumentAPIView(ActingAPIView):
    permission_classes = [*ActingAPIView.permission_classes, ActsForOrganization]

    def document(self, pk: int) -> Document:
        document = document_visible(organization=self.organization, pk=pk)
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
        return document_file_response(self.document(pk))


class FinancingAgreementView(DocumentAPIView):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="financing_requests_agreement",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The request's financing agreement, issued at disbursement; 404 with code "
        "`not_issued` until it is.",
    )
    def get(self, request, pk: int):
        if not subject_visible(organization=self.organization, subject="request", pk=pk):
            raise Http404
        document = document_of_subject(
            organization=self.organization, kind=FINANCING_AGREEMENT, subject=f"request:{pk}"
        )
        if document is None:
            return Response(
                {"detail": _("The financing agreement is not issued yet."), "code": "not_issued"},
                status=404,
            )
        return document_file_response(document)
