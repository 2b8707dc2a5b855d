"""Database privileges of the ledger's hash tables, which are not tenant tables and so are not
covered by `append_only` on TenantModel. The application role reads the head, nodes and
checkpoints but writes none of them: the tree is written by the database itself (migration 0004:
the `ledger_tree_advance` trigger on each insert of entries, `ledger_head_lock` for the append
lock and `ledger_checkpoint_record` for a signed head, SECURITY DEFINER functions owned by the
role that migrates). The application role may insert entries and their party rows, nothing more."""

from django.conf import settings
from django.db import connection

from ledger.models import LedgerCheckpoint, LedgerHead, LedgerNode

# The functions the application role calls (the trigger's runs as its owner, called by no one).
CALLABLE_FUNCTIONS = (
    "ledger_head_lock(integer)",
    "ledger_checkpoint_record(bigint, text, text, text, text, text)",
)


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
        for model in (LedgerHead, LedgerNode, LedgerCheckpoint):
            cursor.execute(
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {quote(model._meta.db_table)}"
                f" FROM {quote(role)}"
            )
        for function in CALLABLE_FUNCTIONS:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {quote(role)}")
