"""Fail-closed defaults (issue 12, items 7 and 15): what an error page shows, DEBUG only when
asked for, the Content-Security-Policy header."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.views.debug import technical_500_response

# Put together here so that the page's traceback, which quotes this file, does not hold them.
DB_PASSWORD = "-".join(["hunter2", "db", "secret"])
BROKER_PASSWORD = "-".join(["redis", "secret", "pass"])
ROOT = Path(__file__).resolve().parents[2]
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


def _settings_process(env: dict) -> subprocess.CompletedProcess:
    """`settings.DEBUG` as a process started with exactly `env` (over a bare environment) has
    it, with the project's own settings module (not the test suite's)."""
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "scf_platform.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_secret_key_and_not_asked_for_debug_the_platform_does_not_start():
    result = _settings_process({"ALLOWED_HOSTS": "scf.example.com"})
    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_is_on_only_when_asked_for():
    production = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "scf.example.com"}
    assert _settings_process(production).stdout.strip() == "False"
    asked = _settings_process({"DEBUG": "true"})
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() == "True"


def test_make_run_asks_for_debug():
    # For itself and what it runs first (migrate, demo); `make migrate` alone does not ask.
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun demo test test-reliability bench: export DEBUG ?= true\n" in makefile


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/me/", "/healthz"])
def test_every_response_carries_the_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no other origin
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"


@pytest.mark.django_db
def test_the_api_docs_page_alone_may_load_swagger_ui_from_its_cdn(client):
    policy = client.get("/api/docs/")["Content-Security-Policy"]
    assert "https://cdn.jsdelivr.net" in policy
    assert (
        "https://cdn.jsdelivr.net" not in client.get("/accounts/login/")["Content-Security-Policy"]
    )
