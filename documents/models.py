"""Issued documents and who may download them.

A document names what it is about as the business events do, a subject kind and its id
(`request` 12 is `"request:12"`), not a foreign key into the room that owns the subject: documents
sit below that room. Its parties are rows of `DocumentParty`, written when it is issued, so that
download rights and row-level security read documents' own tables only.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.registry import UnknownKind, document_kind, subject_parse
from scf_platform.models import Organization, TenantModel, TenantQuerySet

_DOCUMENT_VISIBLE_SQL = (
    "EXISTS (SELECT 1 FROM documents_documentparty p"
    " WHERE p.document_id = documents_document.id"
    " AND p.organization_id = (select scf_current_organization()))"
)


class DocumentQuerySet(TenantQuerySet):
    def visible_to(self, organization: Organization | None) -> "DocumentQuerySet":
        # Parties are rows of DocumentParty (one per organization), not columns here.
        if organization is None:
            return self.none()
        return self.filter(parties__organization=organization)

    def about(self, subject: str) -> "DocumentQuerySet":
        """The documents about `subject` ("request:12")."""
        subject_kind, subject_id = subject_parse(subject)
        return self.filter(subject_kind=subject_kind, subject_id=subject_id)


class Document(TenantModel):
    """A PDF issued once about a subject, stored, and hashed into the ledger.

    Rows are append-only: a document, once issued, never changes."""

    # A registered kind's code (documents.registry): the rooms that own subjects register them.
    kind = models.CharField(_("kind"), max_length=24)
    # What it is about, as the business events name it: "request:12" is ("request", 12).
    subject_kind = models.CharField(_("subject kind"), max_length=24)
    subject_id = models.BigIntegerField(_("subject id"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    file = models.FileField(_("file"), upload_to="documents/", max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_rls_extra_sql = _DOCUMENT_VISIBLE_SQL
    append_only = True

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Issued once: a repeated event or a redelivered task finds the first one.
            models.UniqueConstraint(
                fields=["kind", "subject_kind", "subject_id"], name="document_issued_once"
            ),
        ]
        indexes = [models.Index(fields=["subject_kind", "subject_id"], name="document_subject")]

    @property
    def subject(self) -> str:
        return f"{self.subject_kind}:{self.subject_id}"

    def get_kind_display(self) -> str:
        try:
            return str(document_kind(self.kind).label)
        except UnknownKind:
            return self.kind

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.subject})"


class DocumentParty(TenantModel):
    """An organization that may download a document, in the role it has in the document."""

    pk = models.CompositePrimaryKey("document", "organization")
    # Each leads an index already (the primary key, document_party_org): none of their own.
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="parties", db_index=False
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    role = models.CharField(_("role"), max_length=24)

    tenant_parties = ("organization",)
    append_only = True

    class Meta:
        indexes = [models.Index(fields=["organization", "document"], name="document_party_org")]

    def __str__(self) -> str:
        return f"document {self.document_id} {self.role} {self.organization_id}"
