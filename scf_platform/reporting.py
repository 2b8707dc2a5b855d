"""What Django's error reports (the DEBUG page, the admins' error mail) may show. Its default
filter hides settings and request headers named like API, KEY, PASS, SECRET, TOKEN; the platform's
connection strings (DATABASE_URL, DATABASE_OWNER_URL, REDIS_URL, CELERY_BROKER_URL, ...) carry
passwords under other names, and runserver copies the environment into every request's META."""

import re

from django.views.debug import SafeExceptionReporterFilter


class ReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|DATABASE|REDIS|BROKER",
        flags=re.IGNORECASE,
    )
