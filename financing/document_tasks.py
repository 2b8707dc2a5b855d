"""Documents are rendered in Celery: a business event queues its document after the commit that
made it; the task issues it once (a repeat or a redelivery finds it issued and does nothing)."""

import logging

from django.db import OperationalError, transaction

from financing import documents
from scf_platform.celery import tenant_task

logger = logging.getLogger(__name__)

# Documents are the platform's, not one organization's: the task reads every party's rows.
PLATFORM_SCOPE = {"system": True}


@tenant_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def issue_document(kind: str, subject: str) -> int:
    return documents.document_issue(kind=kind, subject=subject).pk


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
