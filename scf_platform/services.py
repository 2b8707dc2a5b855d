"""Writes of the platform core: organizations and their members."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.models import (
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)
from scf_platform.policy import may_create_organization, may_manage_members, membership_of, require
from scf_platform.tenancy import Scope, scope_activated


def organization_create(
    *,
    actor,
    acting_for: Organization | None,
    name: str,
    kind: str,
    credit_code: str,
    language: str = "zh-hans",
) -> Organization:
    """`actor`, acting for `acting_for` (the operator; None for a superuser without a
    membership), onboards an organization."""
    require(may_create_organization, membership_of(actor, acting_for))
    if kind not in OrganizationKind.values:
        raise ValidationError({"kind": [f"Unknown kind {kind!r}."]})
    organization = Organization(name=name, kind=kind, credit_code=credit_code, language=language)
    organization.full_clean()
    organization.save()
    return organization


def organization_status_change(*, organization_id: int, status: str, actor) -> Organization:
    """The operator suspends an organization (its members can no longer act for it) or
    reinstates it; the change is recorded as a business event, hence a ledger leaf. Setting the
    status it already has changes and records nothing."""
    if status not in OrganizationStatus.values:
        raise ValidationError({"status": [f"Unknown status {status!r}."]})
    with business_transaction():
        organization = Organization.objects.select_for_update().get(pk=organization_id)
        if organization.status == status:
            return organization
        from_status = organization.status
        organization.status = status
        organization.save(update_fields=["status"])
        business_event_record(
            kind=f"organization.{status}",
            subject=f"organization:{organization.pk}",
            parties=[organization.pk],
            payload={
                "organization": organization.pk,
                "from": from_status,
                "status": status,
                "actor": actor.pk,
            },
        )
    return organization


def member_add(
    *,
    organization: Organization,
    actor,
    acting_for: Organization | None,
    username: str,
    email: str,
    password: str,
    role: str,
) -> Membership:
    """Create a user and make it a member of `organization` with `role`; `actor` acts for
    `acting_for`: that organization itself, or the operator."""
    require(may_manage_members, membership_of(actor, acting_for), organization)
    User = get_user_model()  # noqa: N806
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": ["A user with that username already exists."]})
    user = User(username=username, email=email)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        # The new membership belongs to `organization`, which the caller (its admin, or the
        # operator) may write; the policy's check is met by acting for it for this one insert.
        with scope_activated(Scope(organization_id=organization.pk)):
            return Membership.objects.create(user=user, organization=organization, role=role)
