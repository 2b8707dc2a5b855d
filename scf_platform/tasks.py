"""Housekeeping tasks of the platform core."""

from django.contrib.sessions.models import Session
from django.utils import timezone

from scf_platform.celery import app


@app.task(name="scf_platform.tasks.sessions_clear_expired")
def sessions_clear_expired() -> int:
    """Expired portal sessions are deleted daily (sessions are not tenant data)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
