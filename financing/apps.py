"""Money against trade documents: programs, limits, requests, approvals, repayment."""

from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self) -> None:
        from financing import portal_nav  # noqa: F401 - registers the portal's sections
        from financing.document_tasks import document_queue_on_event, documents_queue_on_events
        from financing.selectors import program_counterparty_ids
        from scf_platform.business_events import business_event, business_events
        from scf_platform.models import register_counterparties

        register_counterparties(program_counterparty_ids)
        # Confirmations, approvals, disbursements and settlements issue their documents.
        business_event.connect(document_queue_on_event, dispatch_uid="financing_documents")
        business_events.connect(documents_queue_on_events, dispatch_uid="financing_documents")
