"""The acting scope: which organization (or the platform itself) the current code acts for.

The scope lives in a context variable for the application and, on PostgreSQL, in
transaction-local settings (`set_config(..., true)`) that the row-level security policies read.
A pooled connection therefore never carries one tenant's scope into the next transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

from django.db import connection, transaction


class ScopeRequired(RuntimeError):
    """Tenant data was about to be touched with no acting scope."""


@dataclass(frozen=True)
class Scope:
    organization_id: int | None = None
    user_id: int | None = None
    # The platform itself (beat tasks, the operator's admin): every row, by explicit choice.
    system: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Scope":
        return cls(
            organization_id=data.get("organization_id"),
            user_id=data.get("user_id"),
            system=bool(data.get("system")),
        )

    @classmethod
    def platform(cls) -> "Scope":
        return cls(system=True)


NO_SCOPE = Scope()
_current: ContextVar[Scope] = ContextVar("scf_scope", default=NO_SCOPE)


def current_scope() -> Scope:
    return _current.get()


def _apply_to_database(scope: Scope) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('scf.organization_id', %s, true),"
            " set_config('scf.user_id', %s, true),"
            " set_config('scf.system', %s, true)",
            [
                str(scope.organization_id or ""),
                str(scope.user_id or ""),
                "on" if scope.system else "off",
            ],
        )


@contextmanager
def scope_activated(scope: Scope) -> Iterator[Scope]:
    """Act for `scope` until the block ends; the block is (or joins) one transaction."""
    nested = connection.in_atomic_block
    token = _current.set(scope)
    try:
        with transaction.atomic():
            _apply_to_database(scope)
            yield scope
            # Inside an enclosing transaction the settings would outlive the block: restore them.
            # (On an exception, or a block marked for rollback, the savepoint rollback does.)
            if nested and not connection.needs_rollback:
                _apply_to_database(_previous(token))
    finally:
        _current.reset(token)


def _previous(token) -> Scope:
    previous = token.old_value
    return NO_SCOPE if previous is token.MISSING else previous


def activate(scope: Scope):
    """Set the scope for the rest of the current transaction (used where a `with` cannot wrap the
    work, as in a DRF view after authentication). Returns a token for `deactivate`."""
    if not connection.in_atomic_block:
        raise ScopeRequired("a database scope can only be set inside a transaction")
    token = _current.set(scope)
    _apply_to_database(scope)
    return token


def deactivate(token, *, restore_database: bool) -> None:
    if restore_database:
        _apply_to_database(_previous(token))
    _current.reset(token)


def require_scope() -> Scope:
    scope = current_scope()
    if scope == NO_SCOPE:
        raise ScopeRequired("no organization scope is active")
    return scope


def enqueue(task, *args, **kwargs) -> None:
    """Queue a tenant task after the current transaction commits, in the current scope."""
    scope = require_scope().as_dict()
    transaction.on_commit(lambda: task.delay(*args, scope=scope, **kwargs))
