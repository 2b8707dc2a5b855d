"""Celery tasks of financing: thin, idempotent, each calling one service."""

from datetime import timedelta

from django.db import OperationalError

from financing.services import periodic, screening
from scf_platform.celery import tenant_task


@tenant_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def screen_request(request_id: int) -> str:
    """Screen a submitted request. Runs in the applicant's scope; a repeat does nothing."""
    return screening.financing_request_screen(request_id=request_id).status


@tenant_task()
def requests_daily_run() -> dict:
    """Overdue marking, late interest accrual and due-date reminders (platform scope)."""
    return {
        "overdue": periodic.requests_mark_overdue(),
        "reminded": periodic.requests_remind_due(),
    }


@tenant_task()
def requests_escalate() -> int:
    return periodic.requests_escalate_waiting()


@tenant_task()
def requests_requeue_stale(older_than_seconds: int | None = None) -> int:
    """Beat: screening queued again for submitted requests whose task was lost (platform
    scope)."""
    if older_than_seconds is None:
        return periodic.requests_requeue_stale()
    return periodic.requests_requeue_stale(older_than=timedelta(seconds=older_than_seconds))
