"""Settings, read from the environment; with no environment at all it runs for development."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SCF_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production is whatever does not ask for DEBUG (DEBUG=true: `make run` and the tests ask): a
# deployment that forgets a setting refuses to start, it never falls back to debug pages and the
# development secret key below.
DEBUG = envbool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (DEBUG=true only for development)"
        )
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "scf_platform",
    "suppliers",
    "documents",
    "financing",
    "financing.products.receivables",
    "ledger",
    "telemetry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "scf_platform.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "scf_platform.middleware.ActingOrganizationMiddleware",
]

ROOT_URLCONF = "scf_platform.urls"
WSGI_APPLICATION = "scf_platform.wsgi.application"
ASGI_APPLICATION = "scf_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scf_platform.context_processors.portal",
            ],
        },
    },
]

# Database: PostgreSQL everywhere, with row-level security. DATABASE_URL is the application role
# (scf_app), which must not own the tables (row-level security is forced on the owner, but an
# owner could switch it off); migrations run as the owner, with DATABASE_OWNER_URL (Makefile).
# Without DATABASE_URL, in development, it is the PostgreSQL that `make run` embeds under
# var/postgres/, reached through its socket (scf_platform/embedded_db.py; the Makefile starts it).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    if not DEBUG:
        raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG is off")
    from scf_platform.embedded_db import database_url  # development only: needs the dev extras

    DATABASE_URL = database_url(root=VAR_DIR / "postgres")
# Health checks: a persistent connection cut by a database restart is replaced when the next
# request starts, instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...)")
# No JIT compiling: it costs 30-50 ms a query, and the planner asks for it whenever an estimate
# passes jit_above_cost, which the row-level security policies make every tenant query over some
# 10,000 rows do (their EXISTS arm is costed for every row, though the OR before it almost always
# decides). Short OLTP queries never gain from it.
db_options = DATABASES["default"].setdefault("OPTIONS", {})
db_options["options"] = f"{db_options.get('options', '')} -c jit=off".strip()
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
# The role the application connects as; migrations grant it what it needs and no more.
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "scf_app")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("BUSINESS_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["scf_platform.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
if DEBUG:
    # Development serves static files straight from the apps and static/ (no collectstatic).
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
# Links in notification emails; in development they follow the PORT that `make run` serves on.
SITE_URL = (
    os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
).rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SCF Platform <noreply@localhost>")

# Password guessing (scf_platform/throttle.py): per username and per client address, a delay
# that doubles with each failure past the free ones. TRUSTED_PROXY_COUNT is how many reverse
# proxies of ours stand in front of the web server (each appending to X-Forwarded-For); with the
# default 0 the header is ignored, as anyone can write it. Set it to 1 behind one nginx.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", 5))
LOGIN_ADDRESS_FREE_FAILURES = int(os.environ.get("LOGIN_ADDRESS_FREE_FAILURES", 20))
LOGIN_DELAY_BASE = int(os.environ.get("LOGIN_DELAY_BASE", 30))
LOGIN_DELAY_MAX = int(os.environ.get("LOGIN_DELAY_MAX", 3600))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", 3600))

REST_FRAMEWORK = {
    # DRF's throttles key on the client address read the same way (None would trust the header).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "scf_platform.api.pagination.ListPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "scf_platform.api.exceptions.exception_handler",
    # JSON nested past a limit is a 400, not a RecursionError (scf_platform/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "scf_platform.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE_RATE", "10/min")},
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SCF Platform API",
    "DESCRIPTION": "Supply chain finance: receivables, inventory pledge and prepayment financing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set: a member's role and a trade link's role differ.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "scf_platform.models.Role",
        "LinkRoleEnum": "suppliers.models.LinkRole",
        "ProductEnum": "financing.models.Product",
        # What a program may offer and a request may be made for: the products that exist.
        "RegisteredProductEnum": "financing.products.registry.PRODUCT_CHOICES",
        "OrganizationKindEnum": "scf_platform.models.OrganizationKind",
    },
}

# Uploads: a bulk invoice file larger than this is refused (413) before it is parsed. 16 MiB
# holds the most rows a file may have (suppliers.imports, 100,000) at some 160 bytes a row.
INVOICE_IMPORT_MAX_BYTES = int(os.environ.get("INVOICE_IMPORT_MAX_BYTES", 16 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Screening takes, with the request its task names, up to this many more of the same applicant's
# submitted requests waiting behind it, in one transaction (financing_request_screen).
SCREENING_BATCH_SIZE = int(os.environ.get("SCREENING_BATCH_SIZE", 50))

# Ledger checkpoints are signed with Ed25519: LEDGER_SIGNING_KEY is the base64 of the raw 32-byte
# private key. Without it, DEBUG generates one into var/ once and reuses it; production refuses
# to sign.
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY", "")
LEDGER_SIGNING_KEY_FILE = VAR_DIR / "ledger_signing_key"

# Celery: Redis in production; with no REDIS_URL, kombu's filesystem transport so that `make run`
# works on a bare machine with a real worker process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task whose worker died comes back after visibility_timeout: above the hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    if os.environ.get("CELERY_VISIBILITY_TIMEOUT"):
        # Tests that kill a worker shorten it, and look for abandoned tasks every second (kombu
        # otherwise sweeps about every 100 s, whatever the timeout).
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "visibility_timeout": int(os.environ["CELERY_VISIBILITY_TIMEOUT"]),
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "processed_folder": str(CELERY_BROKER_DIR),
        # Its exchange table; by default a `control/` folder wherever the process was started.
        "control_folder": str(VAR_DIR / "broker-control"),
        # The transport polls its folder; the default (1 s) would take a task a second.
        "polling_interval": 0.05,
    }
# Results are kept only where a caller asks for them (apply_async(ignore_result=False)).
CELERY_RESULT_BACKEND = REDIS_URL or None
# One task at a time per worker process with Redis: a task waiting in a prefetch buffer is a task
# a free worker cannot take. The embedded broker of `make run` is polled, and with acks_late a
# prefetch of one would wait a whole poll cycle between tasks.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1 if REDIS_URL else 16
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", default=False)

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Content-Security-Policy (scf_platform/security_headers.py): the platform's own origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY_DOCS_PATH = "/api/docs/"
CONTENT_SECURITY_POLICY_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://cdn.jsdelivr.net; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

# Error reports hide connection strings too, not only settings named like KEY or PASS.
DEFAULT_EXCEPTION_REPORTER_FILTER = "scf_platform.reporting.ReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
