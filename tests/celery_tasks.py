"""Tasks that exist only for the tests: they report what a scoped task can see."""

from scf_platform.celery import tenant_task
from scf_platform.models import Membership
from scf_platform.tenancy import current_scope


@tenant_task()
def visible_memberships() -> dict:
    scope = current_scope()
    organizations = sorted(set(Membership.objects.values_list("organization_id", flat=True)))
    return {"organization_id": scope.organization_id, "organizations": organizations}


@tenant_task()
def database_backend() -> int:
    """The PostgreSQL backend serving this task's connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
