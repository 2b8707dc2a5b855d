"""The test suite's settings: the project's own, in development mode. DEBUG is on only when asked
for (scf_platform/settings.py); the suite asks here, before they are read, unless the environment
says otherwise (pytest-django still runs each test with DEBUG off). The environment keeps the
answer, so the processes the tests start (Celery workers, manage.py) run as the suite does."""

import os

os.environ.setdefault("DEBUG", "true")

from scf_platform.settings import *  # noqa: E402, F403
