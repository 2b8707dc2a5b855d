"""SCF Platform: the project package (settings, URLs, Celery app) and the multi-tenant core."""

from scf_platform.celery import app as celery_app

__all__ = ["celery_app"]
