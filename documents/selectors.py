"""Reading documents: to their parties only, and what is owed but was never issued."""

from datetime import datetime

from django.db.models import Exists, OuterRef

from documents.models import Document
from documents.registry import document_kinds
from scf_platform.models import Organization


def document_visible(*, organization: Organization | None, pk: int) -> Document | None:
    """A document the organization is a party to; None for anyone else."""
    return Document.objects.visible_to(organization).filter(pk=pk).first()


def document_of_subject(
    *, organization: Organization | None, kind: str, subject: str
) -> Document | None:
    """The subject's document of `kind` as the organization sees it; None until it is issued
    (or when the organization is no party to it)."""
    return Document.objects.visible_to(organization).about(subject).filter(kind=kind).first()


def documents_about(*, organization: Organization | None, subject: str):
    """The documents about `subject` that the organization is a party to, oldest first."""
    return Document.objects.visible_to(organization).about(subject).order_by("created_at", "pk")


def documents_missing(*, before: datetime, limit: int = 200) -> list[tuple[str, str]]:
    """(kind, subject) of the documents whose event happened before `before` but which were never
    issued: their task was lost (a broker down when the change committed). The database says
    what is owed (each kind's `owed`), so a sweeper can issue it late rather than never."""
    missing: list[tuple[str, str]] = []
    for kind in document_kinds():
        issued = Document.objects.filter(
            kind=kind.code, subject_kind=kind.subject, subject_id=OuterRef("pk")
        )
        owed = kind.owed(before).exclude(Exists(issued)).order_by("pk").values_list("pk", flat=True)
        missing.extend((kind.code, f"{kind.subject}:{pk}") for pk in owed[: limit - len(missing)])
        if len(missing) >= limit:
            break
    return missing
