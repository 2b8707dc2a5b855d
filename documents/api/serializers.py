"""An issued document's metadata, as the API has always shown it."""

from django.urls import reverse
from rest_framework import serializers

from documents.models import Document
from documents.registry import document_kinds


def _subject_id_of(document: Document, subject_kind: str) -> int | None:
    return document.subject_id if document.subject_kind == subject_kind else None


class DocumentSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(read_only=True)
    # The contract's `request` and `invoice`: the subject's id when it is one, else null.
    request = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField()
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

    def get_fields(self):
        fields = super().get_fields()
        # The registered kinds, read when the serializer is used (the rooms register them when
        # the apps are ready, after this module is imported).
        fields["kind"] = serializers.ChoiceField(
            choices=[(kind.code, kind.label) for kind in document_kinds()], read_only=True
        )
        return fields

    def get_request(self, document) -> int | None:
        return _subject_id_of(document, "request")

    def get_invoice(self, document) -> int | None:
        return _subject_id_of(document, "invoice")

    def get_download(self, document) -> str:
        return reverse("api:document-download", args=[document.pk])

    def get_ledger_subject(self, document) -> str:
        # The subject of the `document.issued` ledger entry that holds `sha256`.
        return f"document:{document.pk}"
