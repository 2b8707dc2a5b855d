"""Login attempts are counted per client address and username; too many fail for a while."""

from django.conf import settings
from django.core.cache import cache

MAX_FAILURES = getattr(settings, "LOGIN_MAX_FAILURES", 5)
WINDOW_SECONDS = getattr(settings, "LOGIN_FAILURE_WINDOW", 900)


def _key(address: str, username: str) -> str:
    return f"login-failures:{address}:{username.lower()}"


def login_blocked(*, address: str, username: str) -> bool:
    return cache.get(_key(address, username), 0) >= MAX_FAILURES


def login_failed(*, address: str, username: str) -> None:
    key = _key(address, username)
    if not cache.add(key, 1, WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)


def login_succeeded(*, address: str, username: str) -> None:
    cache.delete(_key(address, username))
