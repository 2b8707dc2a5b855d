"""Role checks for API views: the acting organization's kind and the member's role."""

from rest_framework.permissions import BasePermission


class ActsForOrganization(BasePermission):
    """The request acts for an organization (or is the platform operator)."""

    message = "This endpoint acts for an organization; you have none."

    def has_permission(self, request, view) -> bool:
        acting = getattr(request, "acting", None)
        return acting is not None and (acting.organization is not None or acting.is_operator)


def role_required(*roles: str, kinds: tuple[str, ...] = ()) -> type[BasePermission]:
    """A permission class: the acting member has one of `roles`, in an organization of `kinds`."""

    class RoleRequired(BasePermission):
        message = "Your role in the acting organization may not do this."

        def has_permission(self, request, view) -> bool:
            acting = getattr(request, "acting", None)
            if acting is None:
                return False
            if kinds and (acting.organization is None or acting.organization.kind not in kinds):
                return False
            return acting.has_role(*roles)

    RoleRequired.__name__ = f"RoleRequired_{'_'.join(roles)}"
    return RoleRequired


class IsOperator(BasePermission):
    message = "Only the platform operator may do this."

    def has_permission(self, request, view) -> bool:
        acting = getattr(request, "acting", None)
        return acting is not None and acting.is_operator
