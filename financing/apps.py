"""Money against trade documents: programs, limits, requests, approvals, repayment."""

from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self) -> None:
        from financing import portal_nav  # noqa: F401 - registers the portal's sections
        from financing.document_tasks import document_queue_on_event
        from financing.selectors import program_counterparty_ids
        from scf_platform.business_events import business_event
        from scf_platform.models import register_counterparties
        from scf_platform.rls import register_visibility

        register_counterparties(program_counterparty_ids)
        # A bank sees the invoices held as collateral in its requests.
        register_visibility(
            "suppliers.Invoice",
            "EXISTS (SELECT 1 FROM financing_collateralhold h"
            " WHERE h.invoice_id = suppliers_invoice.id"
            " AND h.bank_id = (select scf_current_organization()))",
        )
        # Confirmations, approvals, disbursements and settlements issue their documents.
        business_event.connect(document_queue_on_event, dispatch_uid="financing_documents")
