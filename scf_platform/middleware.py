"""Every request is one transaction acting for one organization (or none, before login)."""

from django.shortcuts import render

from scf_platform.acting import SESSION_KEY, ActingOrganizationError, resolve_acting
from scf_platform.tenancy import NO_SCOPE, Scope, activate, scope_activated


class ActingOrganizationMiddleware:
    """Opens the request's transaction and, for a signed-in portal user, resolves the acting
    organization from the session. API views resolve theirs after DRF authentication, inside the
    same transaction (scf_platform.api.views)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            # The health check reports a broken database; it must not need one to answer.
            return self.get_response(request)
        with scope_activated(NO_SCOPE):
            request.acting = None
            user = getattr(request, "user", None)
            if user is not None and user.is_superuser and request.path.startswith("/admin/"):
                # The operator's Django admin works on the whole platform, by explicit choice.
                activate(Scope(user_id=user.pk, system=True))
                return self.get_response(request)
            if user is not None and user.is_authenticated and not _is_api(request):
                try:
                    request.acting = resolve_acting(
                        user, requested=request.session.get(SESSION_KEY)
                    )
                except ActingOrganizationError:
                    # The chosen organization is gone or suspended: choose again.
                    request.session.pop(SESSION_KEY, None)
                    try:
                        request.acting = resolve_acting(user, requested=None)
                    except ActingOrganizationError as error:
                        if error.forbidden:
                            return render(
                                request, "errors/403.html", {"message": str(error)}, status=403
                            )
                        request.acting = None
            return self.get_response(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")
