"""Fail-closed defaults (issue 12, items 7 and 15): what an error page shows, DEBUG only when
asked for, the Content-Security-Policy header."""

import sys

from django.views.debug import technical_500_response

# Put together here so that the page's traceback, which quotes this file, does not hold them.
DB_PASSWORD = "-".join(["hunter2", "db", "secret"])
BROKER_PASSWORD = "-".join(["redis", "secret", "pass"])
SECRET_URL = f"postgres://scf_owner:{DB_PASSWORD}@db.internal:5432/scf"
BROKER_URL = f"redis://:{BROKER_PASSWORD}@cache.internal:6379/0"


def _boom() -> None:
    raise RuntimeError("boom")


def test_the_debug_error_page_shows_no_connection_string(rf, settings):
    settings.DEBUG = True
    settings.DATABASE_URL = SECRET_URL
    settings.REDIS_URL = BROKER_URL
    settings.CELERY_BROKER_URL = BROKER_URL
    # runserver copies the environment into every request's META.
    request = rf.get("/boom", DATABASE_URL=SECRET_URL, DATABASE_OWNER_URL=SECRET_URL)
    try:
        _boom()
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())
    page = response.content.decode()
    assert "DATABASE_URL" in page  # named, so the page still says what is configured,
    assert DB_PASSWORD not in page  # but never with its password
    assert BROKER_PASSWORD not in page
