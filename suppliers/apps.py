"""The supply chain: who trades with whom, and the documents of that trade."""

from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "suppliers"

    def ready(self) -> None:
        from scf_platform.models import register_counterparties
        from scf_platform.portal import register_core_enterprise_check
        from suppliers import portal_nav  # noqa: F401 - registers the portal's sections
        from suppliers.selectors import link_counterparty_ids, organization_is_core_enterprise

        register_counterparties(link_counterparty_ids)
        register_core_enterprise_check(organization_is_core_enterprise)
