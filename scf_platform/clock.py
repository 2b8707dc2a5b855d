"""The business day: today in the business time zone, which a replay (demo data) may set."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.utils import timezone

_replayed_day: ContextVar[date | None] = ContextVar("scf_business_day", default=None)


def business_today() -> date:
    """Today in settings.TIME_ZONE (Asia/Shanghai by default), unless a replay says otherwise."""
    return _replayed_day.get() or timezone.localdate()


@contextmanager
def business_day(day: date) -> Iterator[None]:
    """Act as if today were `day`: used to replay a deal's history (demo data, tests)."""
    token = _replayed_day.set(day)
    try:
        yield
    finally:
        _replayed_day.reset(token)
