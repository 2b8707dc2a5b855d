"""Settings of the benchmark servers: the project's production-like settings (DEBUG off) plus one
route that exists only here, the bare Django view the API is compared with."""

import os

# Before the import: with a secret key and no DEBUG in the environment the project runs as in
# production (no query log, no debug pages), which is what a benchmark must measure.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")
os.environ["DEBUG"] = "false"  # whatever the caller asked for itself (the test suite asks for it)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from scf_platform.settings import *  # noqa: E402, F403

# Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies in the way.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ROOT_URLCONF = "bench.urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
