"""Documents are rendered in Celery: a business event queues its document after the commit that
made it; the task issues it once (a repeat or a redelivery finds it issued and does nothing).

The tasks keep the names they had when documents lived in financing, so that messages already
queued and the beat schedule (`financing-documents-missing`) still find them."""

from datetime import timedelta

from django.db import OperationalError, transaction
from django.utils import timezone

from documents.selectors import documents_missing
from documents.services import document_issue
from scf_platform.celery import tenant_task

# Documents are the platform's, not one organization's: the task reads every party's rows.
PLATFORM_SCOPE = {"system": True}


@tenant_task(
    name="financing.document_tasks.issue_document",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=10,
)
def issue_document(kind: str, subject: str) -> int:
    return document_issue(kind=kind, subject=subject).pk


@tenant_task(name="financing.document_tasks.documents_issue_missing")
def documents_issue_missing(older_than_seconds: int = 600) -> int:
    """Beat: queue every document owed for longer than `older_than_seconds` and never issued
    (platform scope). A document issued meanwhile makes the queued task a no-op."""
    before = timezone.now() - timedelta(seconds=older_than_seconds)
    missing = documents_missing(before=before)
    for kind, subject in missing:
        transaction.on_commit(
            lambda kind=kind, subject=subject: issue_document.delay(
                kind=kind, subject=subject, scope=PLATFORM_SCOPE
            ),
            robust=True,
        )
    return len(missing)
