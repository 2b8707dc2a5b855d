"""The platform core: tenants, memberships, the acting scope, row-level security, Celery."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ScfPlatformConfig(AppConfig):
    name = "scf_platform"
    verbose_name = "SCF Platform"

    def ready(self) -> None:
        from scf_platform import rls

        # Once per migrate run, after every app's tables exist.
        post_migrate.connect(
            rls.install_row_level_security, sender=self, dispatch_uid="scf_rls_install"
        )
