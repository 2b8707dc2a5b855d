"""POST /api/v1/invoices/import/: a seller uploads its invoices in bulk, as CSV or one UBL XML."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from scf_platform.api.permissions import allowed_by
from scf_platform.api.views import ActingAPIView
from scf_platform.policy import may_upload_invoices
from suppliers.imports import (
    CSV_HEADER,
    ImportFileError,
    ImportFileTooLarge,
    import_max_bytes,
    invoices_import,
)

# Room for the multipart envelope around the file (boundaries, part headers, the file name).
MULTIPART_ALLOWANCE = 64 * 1024

DESCRIPTION = f"""Upload invoices in bulk as multipart field `file`: a UTF-8 CSV file (a byte
order mark is tolerated) whose first line is exactly
`{",".join(CSV_HEADER)}`,
or one UBL 2.1 Invoice (PEPPOL BIS Billing 3.0). The format is told by the content, not the
file name. Every good row lands; every bad row is reported in `rejected` with its field errors
and writes nothing. `row` counts from 1: the k-th data row after the CSV header (blank lines
count, and are skipped), or 1 for the invoice of a UBL file.

400 `{{"file": ["..."]}}`: the file as a whole cannot be read (not UTF-8 CSV or XML, a wrong
header, malformed CSV or XML, XML with a document type declaration, entities or external
references, a credit note, too many rows); nothing is written. 413: the file is larger than the
upload limit; nothing is written."""


class InvoiceImportRejectionSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text="1-based: the k-th data row after the CSV header; 1 for a UBL invoice."
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class InvoiceImportReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    rejected = InvoiceImportRejectionSerializer(many=True)


class InvoiceImportView(ActingAPIView):
    """A seller's maker or admin lands its invoices from a file; one service does the work."""

    permission_classes = [
        IsAuthenticated,
        allowed_by(may_upload_invoices),
    ]
    parser_classes = [MultiPartParser]

    class InvoiceImportInputSerializer(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(
        description=DESCRIPTION,
        request=InvoiceImportInputSerializer,
        responses={
            200: InvoiceImportReportSerializer,
            400: OpenApiResponse(
                response=inline_serializer(
                    "InvoiceImportUnreadable",
                    {"file": serializers.ListField(child=serializers.CharField())},
                ),
                description="The file cannot be read; nothing is written.",
            ),
            413: inline_serializer(
                "InvoiceImportTooLarge",
                {"detail": serializers.CharField(), "code": serializers.CharField()},
            ),
        },
    )
    def post(self, request):
        max_bytes = import_max_bytes()
        # Refused before the body is read, so a huge upload is never spooled to disk.
        if _declared_length(request) > max_bytes + MULTIPART_ALLOWANCE:
            return _too_large(ImportFileTooLarge.over(max_bytes))
        serializer = self.InvoiceImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size is not None and upload.size > max_bytes:
            return _too_large(ImportFileTooLarge.over(max_bytes))
        try:
            report = invoices_import(
                seller=request.acting.organization,
                actor=request.user,
                filename=upload.name,
                content=upload.read(max_bytes + 1),
            )
        except ImportFileTooLarge as error:
            return _too_large(error)
        except ImportFileError as error:
            return Response({"file": [error.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(InvoiceImportReportSerializer(report).data, status=status.HTTP_200_OK)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(error: ImportFileTooLarge) -> Response:
    return Response(
        {"detail": error.message, "code": error.code},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
