"""The role policy: who may do what, as the README's "Roles" says, read by the services, the API
and the portal alike."""

from types import SimpleNamespace

import pytest

from financing.api.views import ApprovalQueueViewSet, FinancingRequestViewSet, ProgramViewSet
from scf_platform import policy
from scf_platform.errors import NotPermitted
from scf_platform.models import OrganizationKind, Role
from suppliers.api.views import InvoiceViewSet, TradeLinkViewSet
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

MAYS = [getattr(policy, f"may_{action}") for action in policy.RULES]


def someone(kind: str, role: str | None, pk: int = 1, *, user_pk: int = 100, superuser=False):
    """A member as the policy reads one (no database): its organization's kind and id, role."""
    organization = SimpleNamespace(pk=pk, kind=kind) if kind else None
    user = SimpleNamespace(pk=user_pk, is_superuser=superuser)
    return policy.Member(user=user, organization=organization, role=role)


def test_every_rule_has_its_may_function():
    assert sorted(may.action for may in MAYS) == sorted(policy.RULES)


@pytest.mark.parametrize("kind", OrganizationKind.values)
def test_a_viewer_may_do_nothing_but_read_a_banks_queue(kind):
    viewer = someone(kind, Role.VIEWER)
    allowed = {may.action for may in MAYS if may(viewer)}
    assert allowed == ({"view_approval_queue"} if kind == OrganizationKind.BANK else set())


def test_only_a_checker_of_the_requests_bank_decides_and_never_on_what_it_prepared():
    request = SimpleNamespace(bank_id=1, created_by_id=7, submitted_by_id=8)
    for may in (policy.may_approve_request, policy.may_reject_request):
        assert may(someone("bank", Role.CHECKER), request)
        for role in (Role.ADMIN, Role.MAKER, Role.VIEWER):
            assert not may(someone("bank", role), request), role
        assert not may(someone("bank", Role.CHECKER, pk=2), request)  # another bank
        assert not may(someone("enterprise", Role.CHECKER), request)
        for preparer in (7, 8):
            assert not may(someone("bank", Role.CHECKER, user_pk=preparer), request)


def test_the_uploader_never_confirms_and_only_the_buyer_does():
    invoice = SimpleNamespace(buyer_id=1, seller_id=2, created_by_id=7)
    assert policy.may_confirm_invoice(someone("enterprise", Role.CHECKER), invoice)
    assert policy.may_confirm_invoice(someone("enterprise", Role.ADMIN), invoice)
    assert not policy.may_confirm_invoice(someone("enterprise", Role.MAKER), invoice)
    assert not policy.may_confirm_invoice(someone("enterprise", Role.CHECKER, pk=2), invoice)
    assert not policy.may_confirm_invoice(someone("enterprise", Role.CHECKER, user_pk=7), invoice)


def test_members_are_managed_by_their_admin_or_the_operators_admin():
    own, other = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
    assert policy.may_manage_members(someone("bank", Role.ADMIN), own)
    assert not policy.may_manage_members(someone("bank", Role.ADMIN), other)
    assert not policy.may_manage_members(someone("bank", Role.CHECKER), own)
    assert policy.may_manage_members(someone("operator", Role.ADMIN, pk=9), other)
    assert not policy.may_manage_members(someone("operator", Role.VIEWER, pk=9), other)
    # A Django superuser without a membership acts as the operator's admin.
    assert policy.may_manage_members(someone("", None, superuser=True), other)
    assert policy.may_create_organization(someone("", None, superuser=True))


def test_require_raises_not_permitted_with_the_reason():
    request = SimpleNamespace(bank_id=2, created_by_id=7, submitted_by_id=8)
    with pytest.raises(NotPermitted, match="Only the request's bank decides on it"):
        policy.require(policy.may_approve_request, someone("bank", Role.CHECKER), request)
    with pytest.raises(NotPermitted, match="may not do this"):
        policy.require(policy.may_disburse_request, someone("bank", Role.VIEWER))
    with pytest.raises(NotPermitted):
        policy.require(policy.may_disburse_request, None)
    policy.require(policy.may_disburse_request, someone("bank", Role.MAKER, pk=2), request)


def test_a_services_actor_is_read_from_its_membership():
    bank = OrganizationFactory(kind=OrganizationKind.BANK)
    checker, stranger = member(bank, Role.CHECKER), UserFactory()
    assert policy.membership_of(checker, bank).role == Role.CHECKER
    assert policy.membership_of(stranger, bank) is None
    assert policy.membership_of(stranger, None) is None
    assert not policy.may_create_program(policy.membership_of(stranger, bank))


@pytest.mark.parametrize(
    "viewset",
    [
        TradeLinkViewSet,
        InvoiceViewSet,
        ProgramViewSet,
        FinancingRequestViewSet,
        ApprovalQueueViewSet,
    ],
)
def test_the_apis_permissions_are_the_policys_rules(viewset):
    for action, permission in viewset.roles_by_action.items():
        assert permission.__name__.removeprefix("Allowed_") in policy.RULES, (viewset, action)
