"""The PDFs of the platform: a registry of document kinds, rendering, storage, who may download.

Documents know no room above them. The room that owns a subject registers what may be issued
about it (`documents.registry`); documents hear the business events and issue what they owe."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"

    def ready(self) -> None:
        from documents.receivers import document_queue_on_event, documents_queue_on_events
        from scf_platform.business_events import business_event, business_events

        # The events a registered kind names issue its document; events recorded together too.
        business_event.connect(document_queue_on_event, dispatch_uid="documents_issue")
        business_events.connect(documents_queue_on_events, dispatch_uid="documents_issue")
