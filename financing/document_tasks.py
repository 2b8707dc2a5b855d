"""Documents are rendered in Celery: a business event queues its document after the commit that
made it; the task issues it once (a repeat or a redelivery finds it issued and does nothing)."""

import logging
from datetime import timedelta

from django.db import OperationalError, transaction
from django.utils import timezone

from financing import documents
from scf_platform.celery import tenant_task

logger = logging.getLogger(__name__)

# Documents are the platform's, not one organization's: the task reads every party's rows.
PLATFORM_SCOPE = {"system": True}


@tenant_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def issue_document(kind: str, subject: str) -> int:
    return documents.document_issue(kind=kind, subject=subject).pk


@tenant_task()
def documents_issue_missing(older_than_seconds: int = 600) -> int:
    """Beat: queue every document owed for longer than `older_than_seconds` and never issued
    (platform scope). A document issued meanwhile makes the queued task a no-op."""
    before = timezone.now() - timedelta(seconds=older_than_seconds)
    missing = documents.documents_missing(before=before)
    for kind, subject in missing:
        transaction.on_commit(
            lambda kind=kind, subject=subject: issue_document.delay(
                kind=kind, subject=subject, scope=PLATFORM_SCOPE
            ),
            robust=True,
        )
    return len(missing)


def document_queue_on_event(sender, *, kind: str, subject: str, **kwargs) -> None:
    """Receiver of `business_event`: the events that issue a document queue its rendering once
    their transaction commits (a rolled-back change issues nothing)."""
    document_kind = documents.DOCUMENT_FOR_EVENT.get(kind)
    if document_kind is None:
        return

    def queue() -> None:
        issue_document.delay(kind=str(document_kind), subject=subject, scope=PLATFORM_SCOPE)

    # Robust: a broker outage must not turn the committed business change into an error.
    transaction.on_commit(queue, robust=True)


def documents_queue_on_events(sender, *, events, **kwargs) -> None:
    """Receiver of `business_events` (many events recorded at once): each as above."""
    for event in events:
        document_queue_on_event(sender, kind=event.kind, subject=event.subject)
