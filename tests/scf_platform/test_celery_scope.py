"""Celery tasks run in the scope they were given and refuse to run without one (real worker)."""

import pytest

from scf_platform.tenancy import Scope, ScopeRequired, enqueue, scope_activated
from tests.celery_tasks import visible_memberships
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
