"""The second wall: PostgreSQL row-level security, independent of the application's scoping."""

import pytest
from django.db import connection

from scf_platform.models import Membership
from scf_platform.rls import tenant_models
from scf_platform.tenancy import Scope, scope_activated
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


def test_the_application_role_is_neither_owner_superuser_nor_bypassrls():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        name, superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [name],
        )
        owned = cursor.fetchone()[0]
    assert name == "scf_app"
    assert (superuser, bypass, owned) == (False, False, 0)


def test_every_tenant_table_has_forced_row_level_security_and_a_policy():
    tables = [model._meta.db_table for model in tenant_models()]
    assert "scf_platform_membership" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
            " FROM pg_class c WHERE c.relname = ANY(%s)",
            [tables],
        )
        rows = {name: (enabled, forced, policies) for name, enabled, forced, policies in cursor}
    assert {t: (e, f, p >= 1) for t, (e, f, p) in rows.items()} == dict.fromkeys(
        tables, (True, True, True)
    )


def test_an_unscoped_query_returns_none_of_another_organizations_rows():
    a, b = OrganizationFactory(), OrganizationFactory()
    member(a), member(a), member(b)
    with scope_activated(Scope(organization_id=a.pk)):
        # Deliberately no .visible_to(): only the database stands between A and B's rows.
        organizations = set(Membership.objects.all().values_list("organization_id", flat=True))
        assert organizations == {a.pk}
        assert Membership.objects.filter(organization=b).count() == 0


def test_with_no_scope_at_all_nothing_is_visible():
    member(OrganizationFactory())
    with scope_activated(Scope()):
        assert Membership.objects.count() == 0


def test_a_row_for_another_organization_cannot_be_written():
    a, b = OrganizationFactory(), OrganizationFactory()
    user = member(a)
    with pytest.raises(Exception) as error, scope_activated(Scope(organization_id=a.pk)):
        Membership.objects.create(user=user, organization=b, role="viewer")
    assert "row-level security" in str(error.value)


def test_the_scope_is_transaction_local():
    a = OrganizationFactory()
    member(a)
    with scope_activated(Scope(organization_id=a.pk)):
        pass
    # Outside the block the previous (platform) scope is back, not A's.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('scf.organization_id', true)")
        assert cursor.fetchone()[0] in ("", None)
