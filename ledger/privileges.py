"""Database privileges of the ledger's hash tables, which are not tenant tables and so are not
covered by `append_only` on TenantModel: the application role may add nodes and checkpoints
and move the head forward, never rewrite or remove any of them."""

from django.conf import settings
from django.db import connection

from ledger.models import LedgerCheckpoint, LedgerHead, LedgerNode


def revoke_rewrites(**kwargs) -> None:
    """post_migrate, after scf_platform has granted the application role every table."""
    role = settings.DATABASE_APP_ROLE
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user = %s", [role])
        if cursor.fetchone()[0]:
            # A flush between tests emits post_migrate too, as the application role.
            return
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return
        for model in (LedgerNode, LedgerCheckpoint):
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(model._meta.db_table)}"
                f" FROM {quote(role)}"
            )
        cursor.execute(
            f"REVOKE DELETE, TRUNCATE ON {quote(LedgerHead._meta.db_table)} FROM {quote(role)}"
        )
