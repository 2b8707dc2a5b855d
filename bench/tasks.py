"""What the bench's Celery worker adds to the platform's tasks: a no-op task (the baseline of the
screening figure) and a counter of finished tasks, kept the same way for both sides."""

import os

import redis
from celery.signals import task_postrun

from scf_platform.celery import app

DONE_KEY = "bench:tasks-done"
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _client


@app.task(name="bench.tasks.noop")
def noop(*args, **kwargs) -> None:
    """Does nothing: what the broker and the worker cost on their own."""


@task_postrun.connect
def count_finished(**kwargs) -> None:
    # Every finished task, screening or no-op, is counted the same way, so the two sides of the
    # figure pay the same for being observed.
    _redis().incr(DONE_KEY)
