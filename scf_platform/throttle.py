"""Password guessing, slowed down on every sign-in (the portal's, the API token endpoint's and
/admin/login/'s), counted two ways:

- per username (any string, whether an account has it or not): after LOGIN_FREE_FAILURES
  failures each further attempt waits LOGIN_DELAY_BASE seconds, doubling with each failure up
  to LOGIN_DELAY_MAX, until a sign-in succeeds or LOGIN_FAILURE_WINDOW passes without one. Not a
  lockout: whoever triggers it (anyone behind the same proxy, say) delays the account's next
  attempt, never bars it; and no header the client chooses changes the count.
- per client address (the real one: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front
  the address the nearest of them saw in X-Forwarded-For), the same with
  LOGIN_ADDRESS_FREE_FAILURES, against one address guessing across many usernames.

While a wait lasts the password is not even checked, so the right one gives nothing either.
Counters live in the cache (Redis in production, shared by every web process): `cache.add` and
`cache.incr` are atomic there, so concurrent guesses take turns too."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The client's address as the platform's own proxies saw it, never a header the client
    wrote: with no trusted proxy (the default) REMOTE_ADDR; with n, the n-th address from the
    right of X-Forwarded-For (each proxy appends the address it was reached from), as DRF's
    NUM_PROXIES reads it."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote


@dataclass(frozen=True)
class _Counter:
    name: str
    free: int

    @property
    def count_key(self) -> str:
        return f"login-failures:{self.name}"

    @property
    def wait_key(self) -> str:
        return f"login-wait:{self.name}"


def _counters(*, request, username: str) -> list[_Counter]:
    address = client_address(request) if request is not None else ""
    return [
        _Counter(f"user:{username.strip().lower()}", settings.LOGIN_FREE_FAILURES),
        _Counter(f"address:{address}", settings.LOGIN_ADDRESS_FREE_FAILURES),
    ]


def login_delay(failures: int, *, free: int) -> int:
    """Seconds to wait after `failures` failures: none for the first `free - 1`, then
    LOGIN_DELAY_BASE doubling with each failure, at most LOGIN_DELAY_MAX."""
    if failures < free:
        return 0
    return min(settings.LOGIN_DELAY_BASE * 2 ** (failures - free), settings.LOGIN_DELAY_MAX)


def login_blocked(*, request, username: str) -> int:
    """0 when a sign-in may be tried now (and, past the free failures, takes the one turn there
    is until the next delay: concurrent guesses do not all get through), else the seconds to
    wait."""
    now = time.time()
    for counter in _counters(request=request, username=username):
        failures = cache.get(counter.count_key, 0)
        delay = login_delay(failures, free=counter.free)
        if delay and not cache.add(counter.wait_key, now + delay, delay):
            until = cache.get(counter.wait_key) or now + 1
            return max(1, int(until - now + 0.999))
    return 0


def login_failed(*, request, username: str) -> None:
    now = time.time()
    window = settings.LOGIN_FAILURE_WINDOW
    for counter in _counters(request=request, username=username):
        cache.add(counter.count_key, 0, window)
        try:
            failures = cache.incr(counter.count_key)
        except ValueError:  # expired between the two calls
            cache.set(counter.count_key, 1, window)
            failures = 1
        cache.touch(counter.count_key, window)
        delay = login_delay(failures, free=counter.free)
        if delay:
            cache.set(counter.wait_key, now + delay, delay)


def login_succeeded(*, request, username: str) -> None:
    """The account's count starts again; the address's does not (it may be guessing others)."""
    user, _ = _counters(request=request, username=username)
    cache.delete_many([user.count_key, user.wait_key])
