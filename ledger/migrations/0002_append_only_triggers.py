"""The database itself refuses to rewrite the ledger: a trigger raises on UPDATE and DELETE of
its append-only tables, whoever asks (the owner included, unless it first disables the trigger,
which only the owner can). Per statement, so that it fires even when row-level security hides
every row from the one asking. Not on TRUNCATE: the test suite empties tables between tests."""

from django.db import migrations

TABLES = ["ledger_ledgerentry", "ledger_ledgerentryparty", "ledger_ledgernode", "ledger_ledgercheckpoint"]

FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_rewrite() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def install(apps, schema_editor):
    # No params: the % in RAISE must reach PostgreSQL as it is.
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite()"
        )


def remove(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS ledger_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS ledger_refuse_rewrite()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
