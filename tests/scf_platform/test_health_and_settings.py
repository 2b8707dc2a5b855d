"""/healthz, and the production settings: no secret, no start; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scf_platform.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_reports_a_broker_that_is_down(client, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")


def _manage(*args, env):
    # The browser tests allow async-unsafe calls for their own process; a deployment never does.
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "scf.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "production-secret-for-the-check-only-0123456789",
            "ALLOWED_HOSTS": "scf.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _settings(*names, env):
    """The named settings as a development process started with `env` (over a bare environment)
    has them."""
    unset = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "SITE_URL", "PORT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    script = "from django.conf import settings\n" + "".join(
        f"print(repr(settings.{name}))\n" for name in names
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        # Development (DEBUG asked for, as `make run` does) unless `env` says otherwise.
        env={**base, "DJANGO_SETTINGS_MODULE": "scf_platform.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [eval(line) for line in result.stdout.splitlines()]  # noqa: S307 (our own reprs)


def test_site_url_follows_port_unless_set():
    assert _settings("SITE_URL", env={}) == ["http://127.0.0.1:8000"]
    assert _settings("SITE_URL", env={"PORT": "8701"}) == ["http://127.0.0.1:8701"]
    site = {"PORT": "8701", "SITE_URL": "https://scf.example.com/"}
    assert _settings("SITE_URL", env=site) == ["https://scf.example.com"]


def test_without_database_url_development_uses_the_embedded_postgresql(tmp_path):
    [database] = _settings("DATABASES['default']", env={"SCF_VAR_DIR": str(tmp_path)})
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["USER"] == "scf_app"
    assert database["OPTIONS"]["host"] == str(tmp_path / "postgres" / "run")


def test_production_refuses_to_start_without_database_url():
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "scf.example.com"}
    result = _manage("check", env=env | {"DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = _manage("check", env={"DATABASE_URL": "sqlite:///var/db.sqlite3"})
    assert result.returncode != 0
    assert "must name a PostgreSQL database" in result.stderr
