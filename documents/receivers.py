"""Receivers of the business events: an event that a registered kind names queues the rendering
of its document once the event's transaction commits (a rolled-back change issues nothing)."""

from django.db import transaction

from documents.registry import document_kinds_issued_by
from documents.tasks import PLATFORM_SCOPE, issue_document


def document_queue_on_event(sender, *, kind: str, subject: str, **kwargs) -> None:
    """Receiver of `business_event`."""
    for document_kind in document_kinds_issued_by(kind):

        def queue(code: str = document_kind.code) -> None:
            issue_document.delay(kind=code, subject=subject, scope=PLATFORM_SCOPE)

        # Robust: a broker outage must not turn the committed business change into an error.
        transaction.on_commit(queue, robust=True)


def documents_queue_on_events(sender, *, events, **kwargs) -> None:
    """Receiver of `business_events` (many events recorded at once): each as above."""
    for event in events:
        document_queue_on_event(sender, kind=event.kind, subject=event.subject)
