"""Domain errors of our own; the API maps them to responses in one place (api.exceptions)."""


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


class NotPermitted(DomainError):
    """The acting organization's role or position may not do this (403)."""

    status_code = 403
    code = "not_permitted"
