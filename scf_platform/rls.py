"""Row-level security: the second wall, installed from the models' own declarations.

Each concrete `TenantModel` gets `ENABLE` and `FORCE ROW LEVEL SECURITY` and one policy built from
its `tenant_parties` (less what `tenant_hidden_from` keeps from a party, as a draft request from
its bank); the policies read the transaction-local settings that `tenancy` writes.
This runs after every `migrate` (post_migrate), is idempotent, and so a new tenant table needs
no SQL of its own: declaring `tenant_parties` is the one line. A changed declaration needs no
migration either: the next `migrate` replaces the policy.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.db import connection

from scf_platform.models import TenantModel

logger = logging.getLogger(__name__)

POLICY = "scf_tenant_isolation"
INSERT_POLICY = "scf_insert_for_any"

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION scf_current_organization() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('scf.organization_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION scf_current_user() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('scf.user_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION scf_is_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('scf.system', true), '') = 'on' $$;
"""


_extra_visibility: dict[str, list[str]] = {}
_visibility_functions: list[str] = []


def register_visibility(model_label: str, sql: str, *, functions_sql: str = "") -> None:
    """A higher app widens who may see a lower app's rows (e.g. financing lets a bank see the
    invoices held as collateral in its requests) without the lower app naming its tables.
    `functions_sql` creates (OR REPLACE) the functions `sql` calls, before the policies."""
    _extra_visibility.setdefault(model_label, []).append(sql)
    if functions_sql:
        _visibility_functions.append(functions_sql)


def tenant_models() -> list[type[TenantModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy
    ]


def policy_predicate(model: type[TenantModel]) -> str:
    quote = connection.ops.quote_name
    conditions = ["(select scf_is_system())"]
    for party in model.tenant_parties:
        column = model._meta.get_field(party).column
        condition = f"{quote(column)} = (select scf_current_organization())"
        hidden = model.tenant_hidden_from.get(party)
        if hidden is not None:
            field, values = hidden
            hidden_column = quote(model._meta.get_field(field).column)
            if values is None:
                condition = f"({condition} AND {hidden_column} IS NOT NULL)"
            else:
                listed = ", ".join(_literal(str(value)) for value in values)
                condition = f"({condition} AND {hidden_column} NOT IN ({listed}))"
        conditions.append(condition)
    if model.tenant_rls_extra_sql:
        conditions.append(f"({model.tenant_rls_extra_sql})")
    for sql in _extra_visibility.get(model._meta.label, ()):
        conditions.append(f"({sql})")
    return " OR ".join(conditions)


def _literal(value: str) -> str:
    """A string constant of SQL (the values of `tenant_hidden_from` are the code's own)."""
    return "'" + value.replace("'", "''") + "'"


def install_row_level_security(**kwargs) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user = %s", [settings.DATABASE_APP_ROLE])
        if cursor.fetchone()[0]:
            # A flush between tests emits post_migrate too; the owner installed all of this.
            return
        cursor.execute(FUNCTIONS_SQL)
        for functions_sql in _visibility_functions:
            cursor.execute(functions_sql)
        for model in tenant_models():
            table = quote(model._meta.db_table)
            predicate = policy_predicate(model)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {table} USING ({predicate}) WITH CHECK ({predicate})"
            )
            cursor.execute(f"DROP POLICY IF EXISTS {INSERT_POLICY} ON {table}")
            if model.tenant_insert_for_any:
                # Permissive policies add up: anyone scoped may insert, only parties may read.
                cursor.execute(
                    f"CREATE POLICY {INSERT_POLICY} ON {table} FOR INSERT"
                    " WITH CHECK ((select scf_current_organization()) IS NOT NULL"
                    " OR (select scf_is_system()))"
                )
    grant_application_role()


def grant_application_role() -> None:
    """Give the application role exactly what it needs; append-only tables lose UPDATE/DELETE."""
    role = settings.DATABASE_APP_ROLE
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            logger.warning("database role %s does not exist: no privileges granted", role)
            return
        cursor.execute("SELECT current_user = %s", [role])
        if cursor.fetchone()[0]:
            logger.warning("migrations ran as the application role %s itself", role)
            return
        role_name = quote(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role_name}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role_name}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_name}")
        for model in tenant_models():
            if model.append_only:
                table = quote(model._meta.db_table)
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role_name}")
