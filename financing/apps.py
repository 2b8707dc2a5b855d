"""Money against trade documents: programs, limits, requests, approvals, repayment."""

from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self) -> None:
        from financing import portal_nav  # noqa: F401 - registers the portal's sections
        from financing.documents import documents_register
        from financing.selectors import program_counterparty_ids
        from scf_platform.models import register_counterparties

        register_counterparties(program_counterparty_ids)
        # Confirmations, approvals, disbursements and settlements issue their documents.
        documents_register()
