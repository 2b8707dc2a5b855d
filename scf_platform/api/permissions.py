"""Permissions of API views: an acting organization, and what the role policy
(scf_platform.policy) lets the acting member do."""

from rest_framework.permissions import BasePermission

from scf_platform.policy import refusal


class ActsForOrganization(BasePermission):
    """The request acts for an organization (or is the platform operator)."""

    message = "This endpoint acts for an organization; you have none."

    def has_permission(self, request, view) -> bool:
        acting = getattr(request, "acting", None)
        return acting is not None and (acting.organization is not None or acting.is_operator)


def allowed_by(may) -> type[BasePermission]:
    """A permission class: the policy's `may` (a `may_<action>`) lets the acting member take
    the action. Which object it acts on is the service's to check, with the same policy."""

    class Allowed(BasePermission):
        message = "Your role in the acting organization may not do this."

        def has_permission(self, request, view) -> bool:
            acting = getattr(request, "acting", None)
            reason = refusal(may.action, acting)
            if reason is not None:
                self.message = str(reason)
            return reason is None

    Allowed.__name__ = f"Allowed_{may.action}"
    return Allowed
