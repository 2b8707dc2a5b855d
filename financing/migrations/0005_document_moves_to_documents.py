"""Documents move to their own room: every row of financing_document is copied, with its id, into
documents_document (its subject as kind and id, its party columns as DocumentParty rows), and the
old table goes. The ids stay, so the ledger's `document.issued` entries (subject "document:<id>",
payload with the id, the kind, the subject and the SHA-256) still name the same documents; the
files stay where they are (the rows keep their names)."""

from django.core.management.color import no_style
from django.db import migrations

# The old table's party columns, in the order the document listed its parties.
PARTY_COLUMNS = ("applicant", "bank", "core_enterprise", "seller", "buyer")
# The subject the old foreign keys named.
SUBJECT_COLUMNS = ("request", "invoice")


def _platform_scope(schema_editor) -> None:
    # Both tables are under FORCE ROW LEVEL SECURITY, which binds their owner too: read and
    # write as the platform, for this transaction only.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('scf.system', 'on', true)")


def _reset_sequence(schema_editor, model) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def copy_forward(apps, schema_editor) -> None:
    _platform_scope(schema_editor)
    Old = apps.get_model("financing", "Document")
    New = apps.get_model("documents", "Document")
    Party = apps.get_model("documents", "DocumentParty")
    alias = schema_editor.connection.alias
    for old in Old.objects.using(alias).order_by("pk").iterator(chunk_size=500):
        subject_kind, _sep, subject_id = old.subject.partition(":")
        New.objects.using(alias).create(
            id=old.pk,
            kind=old.kind,
            subject_kind=subject_kind,
            subject_id=int(subject_id),
            language=old.language,
            file=old.file.name,
            sha256=old.sha256,
            size=old.size,
        )
        # auto_now_add stamped the copy: give it back its own time.
        New.objects.using(alias).filter(pk=old.pk).update(created_at=old.created_at)
        roles: dict[int, str] = {}
        for role in PARTY_COLUMNS:
            organization_id = getattr(old, f"{role}_id")
            if organization_id is not None:
                roles.setdefault(organization_id, role)
        Party.objects.using(alias).bulk_create(
            Party(document_id=old.pk, organization_id=organization_id, role=role)
            for organization_id, role in roles.items()
        )
    _reset_sequence(schema_editor, New)


def copy_backward(apps, schema_editor) -> None:
    _platform_scope(schema_editor)
    Old = apps.get_model("financing", "Document")
    New = apps.get_model("documents", "Document")
    Party = apps.get_model("documents", "DocumentParty")
    alias = schema_editor.connection.alias
    for new in New.objects.using(alias).order_by("pk").iterator(chunk_size=500):
        if new.subject_kind not in SUBJECT_COLUMNS:
            raise RuntimeError(f"document {new.pk} is about a {new.subject_kind}: no column for it")
        parties = {
            f"{party.role}_id": party.organization_id
            for party in Party.objects.using(alias).filter(document_id=new.pk)
            if party.role in PARTY_COLUMNS
        }
        Old.objects.using(alias).create(
            id=new.pk,
            kind=new.kind,
            subject=f"{new.subject_kind}:{new.subject_id}",
            **{f"{new.subject_kind}_id": new.subject_id},
            language=new.language,
            file=new.file.name,
            sha256=new.sha256,
            size=new.size,
            **parties,
        )
        Old.objects.using(alias).filter(pk=new.pk).update(created_at=new.created_at)
    _reset_sequence(schema_editor, Old)
    Party.objects.using(alias).all().delete()
    New.objects.using(alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0004_redundant_party_indexes"),
        ("documents", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_forward, copy_backward),
        migrations.DeleteModel(name="Document"),
    ]
