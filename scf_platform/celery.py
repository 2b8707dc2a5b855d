"""The Celery app: safe delivery settings, a beat schedule in code, tasks bound to a scope."""

import functools
import os
import sys

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections, connection

from scf_platform.tenancy import Scope, ScopeRequired, scope_activated

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scf_platform.settings")

app = Celery("scf_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only when it has finished, and handed back to the broker if the
    # worker process dies, so a killed worker loses nothing; tasks are therefore idempotent.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_soft_time_limit=240,
    task_time_limit=300,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    timezone=os.environ.get("BUSINESS_TIME_ZONE", "Asia/Shanghai"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # The whole schedule, in one place; tasks are named, so nothing here imports the apps.
    beat_schedule={
        "clear-expired-sessions": {
            "task": "scf_platform.tasks.sessions_clear_expired",
            "schedule": crontab(hour=3, minute=17),
        },
        "financing-daily-run": {
            "task": "financing.tasks.requests_daily_run",
            "schedule": crontab(hour=0, minute=30),
            "kwargs": {"scope": {"system": True}},
        },
        "financing-requeue-stale": {
            "task": "financing.tasks.requests_requeue_stale",
            "schedule": 120.0,
            "kwargs": {"scope": {"system": True}},
        },
        "financing-escalate-waiting": {
            "task": "financing.tasks.requests_escalate",
            "schedule": 300.0,
            "kwargs": {"scope": {"system": True}},
        },
        "financing-documents-missing": {
            "task": "financing.document_tasks.documents_issue_missing",
            "schedule": 600.0,
            "kwargs": {"scope": {"system": True}},
        },
        "ledger-checkpoint": {
            "task": "ledger.tasks.checkpoint_sign",
            "schedule": 600.0,
            "kwargs": {"scope": {"system": True}},
        },
    },
)
app.autodiscover_tasks()

# Celery's Django fixup closes the database connection before and after every task unless
# CELERY_DB_REUSE_MAX is set, so that every task would open a new PostgreSQL connection (most of
# what a short task costs). A worker instead keeps its connection the way Django keeps one across
# requests: closed when older than CONN_MAX_AGE or unusable, health-checked before first use.
app.conf.CELERY_DB_REUSE_MAX = sys.maxsize


@task_prerun.connect
@task_postrun.connect
def database_connection_tidy(task=None, **kwargs) -> None:
    # An eager task (tests) runs inside its caller's transaction: its connection is the caller's.
    if getattr(task.request, "is_eager", False) or connection.in_atomic_block:
        return
    close_old_connections()


def tenant_task(**task_options):
    """A task that runs inside the scope it was queued with (the `scope=` keyword, which its
    sender passes: the beat schedule above, the screening and document senders, or
    `tenancy.enqueue` for the current scope) and refuses to run without one. The scope is set
    transaction-locally, so the task body is one transaction."""

    def decorator(function):
        # A task may keep the name it had before it moved (name=), for messages already queued.
        @app.task(**{"name": f"{function.__module__}.{function.__name__}", **task_options})
        @functools.wraps(function)
        def run(*args, scope: dict | None = None, **kwargs):
            if not scope or not (scope.get("organization_id") or scope.get("system")):
                raise ScopeRequired(f"task {function.__name__} was queued without a scope")
            with scope_activated(Scope.from_dict(scope)):
                return function(*args, **kwargs)

        return run

    return decorator
