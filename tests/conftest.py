"""Test set-up: PostgreSQL as the unprivileged application role, a platform scope for test code,
API clients acting for an organization, and a real Celery worker for the tests that need one."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from scf_platform.tenancy import Scope, activate, deactivate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database is created and migrated by the owner role; the tests then run as the
    application role, exactly as production does, so row-level security applies to every test."""
    owner = connection.settings_dict["USER"]
    app_role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Only for tests: the flush between transactional tests truncates tables.
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
    connection.close()
    connection.settings_dict["USER"] = app_role
    yield
    connection.close()
    connection.settings_dict["USER"] = owner


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Each test gets an empty in-process cache (login throttling counts live there), so runs
    in parallel or in a row never see each other's counters."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Real hashers cost ~0.5 s a user; what they protect is Django's business, not ours.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _platform_scope(request):
    """Test code sees every row (it sets up several organizations' data); requests made through
    the clients below resolve their own scope, exactly as in production."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if ("db" in request.fixturenames or marker is not None) and not transactional:
        request.getfixturevalue("db")
        token = activate(Scope.platform())
        yield
        deactivate(token, restore_database=False)
        return
    yield


class ActingClient(APIClient):
    """An API client signed in with a token, acting for one organization via X-Organization."""

    def __init__(self, user, organization=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.force_authenticate(user=user)
        if organization is not None:
            self.credentials(HTTP_X_ORGANIZATION=str(organization.pk))


@pytest.fixture
def api_as():
    def make(user, organization=None) -> ActingClient:
        return ActingClient(user, organization)

    return make


def _worker_env() -> dict:
    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(scope="session")
def celery_queue():
    """A queue of this test session's own, so that parallel runs never take each other's tasks."""
    from scf_platform.celery import app

    name = f"test-{uuid.uuid4().hex[:12]}"
    app.conf.task_default_queue = name
    app.conf.task_create_missing_queues = True
    return name


class WorkerProcess:
    def __init__(self, queue: str, env: dict) -> None:
        self.queue = queue
        self.env = env
        self.process: subprocess.Popen | None = None
        # A log of its own: "ready." in a log shared with an earlier worker would mean nothing.
        self.log = ROOT / "var" / f"worker-{queue}-{uuid.uuid4().hex[:8]}.log"

    def start(self, concurrency: int = 2) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "scf_platform",
                "worker",
                "-Q",
                self.queue,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--include",
                "tests.celery_tasks",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError("worker did not become ready in 60 s")

    def kill(self, sig=9) -> None:
        if self.process and self.process.poll() is None:
            # The worker and its pool children die together, as when a machine is lost.
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


@pytest.fixture
def celery_worker_process(transactional_db, celery_queue):
    """A real `celery worker` process on the test database (as the application role) and Redis.
    Tests using it commit their data (transactional_db), since the worker sees only commits."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("worker tests need REDIS_URL (make test sets it)")
    worker = WorkerProcess(celery_queue, _worker_env())
    _purge(celery_queue)
    worker.start()
    yield worker
    worker.stop()
    # What this test queued and no worker ran (a document after the last state change) must not
    # reach the next test's worker: its rows are flushed, so the task would fail there.
    _purge(celery_queue)


def _purge(queue: str) -> None:
    from scf_platform.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
