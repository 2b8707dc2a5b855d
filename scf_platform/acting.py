"""Who is acting: the user, the organization it acts for (resolved once per request), its role."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from scf_platform.models import Membership, Organization, OrganizationKind, Role
from scf_platform.tenancy import Scope, activate

SESSION_KEY = "acting_organization_id"


class ActingOrganizationError(Exception):
    """The acting organization cannot be resolved; `forbidden` separates 403 from 400."""

    def __init__(self, message: str, *, forbidden: bool) -> None:
        super().__init__(message)
        self.forbidden = forbidden


@dataclass(frozen=True)
class Acting:
    user: object
    organization: Organization | None
    role: str | None
    memberships: tuple[Membership, ...]

    @property
    def is_operator(self) -> bool:
        if getattr(self.user, "is_superuser", False):
            return True
        return self.organization is not None and self.organization.kind == OrganizationKind.OPERATOR

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    @property
    def scope(self) -> Scope:
        return Scope(
            organization_id=self.organization.pk if self.organization else None,
            user_id=self.user.pk,
            system=self.is_operator,
        )


def memberships_of(user) -> tuple[Membership, ...]:
    # Reading one's own memberships needs only the user half of the scope (see Membership).
    activate(Scope(user_id=user.pk))
    return tuple(
        Membership.objects.for_user(user).order_by("organization__name", "organization_id")
    )


def resolve_acting(user, *, requested: str | int | None) -> Acting:
    """Pick the organization the user acts for and set the scope for the rest of the transaction.

    `requested` is the `X-Organization` header or the portal's choice; left out, the user's only
    membership is taken. A user with several memberships must say which.
    """
    memberships = memberships_of(user)
    chosen: Membership | None = None
    if requested not in (None, ""):
        try:
            organization_id = int(requested)
        except (TypeError, ValueError):
            raise ActingOrganizationError(
                _("X-Organization must be an organization id."), forbidden=False
            ) from None
        chosen = next((m for m in memberships if m.organization_id == organization_id), None)
        if chosen is None:
            raise ActingOrganizationError(
                _("You are not a member of organization %(id)s.") % {"id": organization_id},
                forbidden=True,
            )
    elif len(memberships) == 1:
        chosen = memberships[0]
    elif len(memberships) > 1:
        raise ActingOrganizationError(
            _("You belong to several organizations: name one in the X-Organization header."),
            forbidden=False,
        )
    if chosen is not None and not chosen.organization.is_active:
        raise ActingOrganizationError(
            _("Organization %(name)s is suspended.") % {"name": chosen.organization.name},
            forbidden=True,
        )
    acting = Acting(
        user=user,
        organization=chosen.organization if chosen else None,
        role=chosen.role if chosen else None,
        memberships=memberships,
    )
    activate(acting.scope)
    return acting
