"""Celery tasks run in the scope they were given and refuse to run without one (real worker)."""

import pytest
from django.db import connection

from scf_platform.tenancy import Scope, ScopeRequired, enqueue, scope_activated
from tests.celery_tasks import database_backend, visible_memberships
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.worker


def _committed_organizations():
    with scope_activated(Scope.platform()):
        a, b = OrganizationFactory(), OrganizationFactory()
        member(a), member(b)
    return a, b


def test_a_task_sees_only_its_organizations_rows(celery_worker_process):
    a, b = _committed_organizations()
    result = visible_memberships.apply_async(
        kwargs={"scope": Scope(organization_id=a.pk).as_dict()}, ignore_result=False
    )
    assert result.get(timeout=60) == {"organization_id": a.pk, "organizations": [a.pk]}


def test_a_task_without_a_scope_is_refused(celery_worker_process):
    _committed_organizations()
    result = visible_memberships.apply_async(ignore_result=False)
    with pytest.raises(ScopeRequired):
        result.get(timeout=60)


def test_the_enqueue_helper_refuses_outside_a_scope():
    with pytest.raises(ScopeRequired):
        enqueue(visible_memberships)


def test_a_worker_keeps_its_database_connection_and_replaces_a_broken_one(celery_worker_process):
    scope = Scope.platform().as_dict()

    def backend() -> int:
        result = database_backend.apply_async(kwargs={"scope": scope}, ignore_result=False)
        return result.get(timeout=60)

    before = {backend() for _ in range(10)}
    # One connection per pool process (two), not one per task.
    assert len(before) <= 2
    with connection.cursor() as cursor:
        for pid in before:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The dead connections fail their health check and are replaced: no task fails.
    after = {backend() for _ in range(6)}
    assert after and not after & before
