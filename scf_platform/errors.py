"""Domain errors of our own; the API maps them to responses in one place (api.exceptions)."""

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A business rule refused the action. `code` is stable; clients may branch on it."""

    status_code = 409
    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotPermitted(DomainError, PermissionDenied):
    """The acting organization's role or position may not do this (403). A PermissionDenied
    too, so that the portal answers it with its 403 page wherever it is raised."""

    status_code = 403
    code = "not_permitted"
