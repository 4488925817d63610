"""Settings shared by every profile. Everything that differs between machines comes from
the environment (cookiecutter-django style); the defaults need no server installed."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("PARTNERHUB_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-local-development-only-key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Platform apps, bottom of the dependency graph (docs/architecture.md).
    "partnerhub.core",
    "partnerhub.accounts",
    # Domain apps, each depending only on the ones listed before it.
    "licensing",
    "trials",
    "customers",
    # Surfaces on top: each uses the domain apps and nothing uses them.
    "controlhub",
    "partnerhub.demo",
    # The machine interface (issue 15): REST API views only, on top of every app.
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "partnerhub.accounts.middleware.SessionLifetimeMiddleware",
    # After sign-in and session checks: the person's own language and time zone (issue 14).
    "partnerhub.accounts.middleware.PersonLocaleMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnerhub.urls"
WSGI_APPLICATION = "partnerhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "partnerhub.accounts.context_processors.notifications",
            ],
        },
    },
]

# SQLite under var/ by default; DATABASE_URL switches to PostgreSQL (production).
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'partnerhub.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out address or IP never reaches the password check.
    "partnerhub.accounts.signin.SignInGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The five languages the product speaks (README "Languages"); catalogs under locale/<lang>/.
LANGUAGES = [
    ("en", _("English")),
    ("da", _("Danish")),
    ("sv", _("Swedish")),
    ("it", _("Italian")),
    ("zh-hant", _("Traditional Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email: console in development, SMTP when EMAIL_HOST is set.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Partner Hub <no-reply@partnerhub.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (partnerhub/core/outbox.py): mark every accepted email sent at once (1, so a killed
# worker re-sends nothing already accepted) or every N; relay at once when a worker starts.
OUTBOX_MARK_EVERY = int(os.environ.get("OUTBOX_MARK_EVERY", "1"))
OUTBOX_RELAY_ON_WORKER_START = env_bool("OUTBOX_RELAY_ON_WORKER_START", True)
OUTBOX_DELIVER_ON_COMMIT = env_bool("OUTBOX_DELIVER_ON_COMMIT", True)  # false: the relay delivers
# Support staff get operational alerts (e.g. a deletion batch held back by the safety limit).
SUPPORT_EMAILS = env_list("SUPPORT_EMAILS", "support@partnerhub.local")
# Absolute base URL for links in emails (sign in, buy, setup wizard).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# T14: where requests for a new device return label go (the device trial team).
DEVICE_TRIAL_TEAM_EMAIL = os.environ.get(
    "DEVICE_TRIAL_TEAM_EMAIL", "device-trials@partnerhub.local"
)

# P1: the vendor's provisioning, behind a backend class (like EMAIL_BACKEND). The embedded one
# simulates the vendor: seconds per service type, Calling waits for a location entered in
# Control Hub, service types handed to the vendor's staff or the partner ("manual"), and a share
# of failed attempts for demos (0 unless set), drawn reproducibly from "seed".
PROVISIONING_BACKEND = os.environ.get(
    "PROVISIONING_BACKEND", "licensing.provisioning.EmbeddedVendorBackend"
)
PROVISIONING_EMBEDDED = {
    "seconds": {"messaging": 2, "meetings": 5, "calling": 3, "devices": 2},
    "manual": {},
    "failure_rate": float(os.environ.get("PROVISIONING_FAILURE_RATE", "0")),
    "seed": int(os.environ.get("PROVISIONING_SEED", "0")),
}
PROVISIONING_TIMEOUT_SECONDS = int(os.environ.get("PROVISIONING_TIMEOUT_SECONDS", "30"))
PROVISIONING_MAX_ATTEMPTS = 5  # a raising or silent vendor is tried this often, then failed
PROVISIONING_RETRY_BASE_SECONDS = 30  # backoff: 30 s, 1 min, 2 min, 4 min

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport, which needs no
# server (the worker and beat exchange messages through files under var/).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast/pidbox exchanges (worker control); kombu's default is ./control in the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The transport polls its folder; the default second would cap a worker at ~1 task/s.
        "polling_interval": 0.1,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A broker that is down or unreachable answers fast: a committed action queues its task
    # after commit, and must not hang the page (owed emails wait in the outbox for the relay).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue name per deployment; the integration test gives its worker a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")

# Redis when REDIS_URL is set; otherwise a file cache under var/ that the web server, the
# worker and beat share (count bands, rate limits).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # The cache is never a point of failure (partnerhub.core.safecache): fail fast.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# Lifecycle safety valve (issue 3): a tick that would delete more orgs than
# max(DELETION_BATCH_MIN, DELETION_BATCH_FRACTION * all orgs) deletes none.
DELETION_BATCH_MIN = int(os.environ.get("DELETION_BATCH_MIN", "50"))
DELETION_BATCH_FRACTION = float(os.environ.get("DELETION_BATCH_FRACTION", "0.05"))
# Beat's daily tick fans out into chunk tasks that every worker shares (customers/fanout.py);
# false runs it in one worker process, like `manage.py lifecycle_tick`.
LIFECYCLE_TICK_FANOUT = env_bool("LIFECYCLE_TICK_FANOUT", True)

# Issue 16: the dashboard's "low license assignment" and the customer list's filter behind it
# count customers with under this share (whole percent, 1-100) of their licenses assigned.
DASHBOARD_LOW_ASSIGNMENT_PERCENT = int(os.environ.get("DASHBOARD_LOW_ASSIGNMENT_PERCENT", "50"))
if not 1 <= DASHBOARD_LOW_ASSIGNMENT_PERCENT <= 100:
    raise ImproperlyConfigured("DASHBOARD_LOW_ASSIGNMENT_PERCENT must be between 1 and 100.")

# D5: outside systems report activity to POST /api/activity/ with this bearer token (issue 3).
# Empty disables the endpoint.
ACTIVITY_API_TOKEN = os.environ.get("ACTIVITY_API_TOKEN", "")
# Larger bodies are refused with 413 before they are read (1,000 events fit in ~150 KB).
ACTIVITY_API_MAX_BODY_BYTES = int(os.environ.get("ACTIVITY_API_MAX_BODY_BYTES", str(512 * 1024)))

# Issue 15: the partner API (DRF + drf-spectacular) and webhooks.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")  # per key
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(256 * 1024)))
SPECTACULAR_SETTINGS = {
    "TITLE": "Partner Hub API",
    "DESCRIPTION": (
        "The partner and Control Hub API. Authenticate with `Authorization: Bearer <API key>` "
        "(keys are created in Settings → API keys). Errors are RFC 9457 problem details. "
        "Send an `Idempotency-Key` header with every POST to retry it safely."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ServiceType": "licensing.choices.ServiceType",
        "TrialLength": "trials.choices.TrialLength",
        "ProvisioningStatus": "licensing.choices.ProvisioningStatus",
        "SubscriptionStatus": "licensing.choices.SubscriptionStatus",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"ApiKey": []}],
}
# Webhooks: never to private or loopback addresses in production (SSRF); tests allow loopback.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_RETRY_BASE_SECONDS = 30  # backoff 30 s, 1 min, 2 min … capped at 6 h
WEBHOOK_RETRY_MAX_SECONDS = 6 * 3600
WEBHOOK_RETRY_FOR_SECONDS = 3 * 86400  # then the delivery gives up
WEBHOOK_DISABLE_AFTER = 50  # failed attempts in a row turn an endpoint off (admins emailed)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; axes' per-sign-in bookkeeping is noise.
        "axes": {"level": "WARNING"},
    },
}

# ---- security (issue 9, OWASP ASVS level 2) -------------------------------------------------
# Brute force (django-axes): LOGIN_FAILURE_LIMIT failed sign-ins with one address, or from one
# IP, lock that address or IP for LOGIN_COOLOFF_MINUTES. Support staff unlock in the admin.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in form's field (it holds the email)
AXES_USERNAME_CALLABLE = "partnerhub.accounts.signin.signin_username"
AXES_CLIENT_IP_CALLABLE = "partnerhub.accounts.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "partnerhub.accounts.views.signin_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# Proxies in front of the app that add X-Forwarded-For (1 behind one TLS proxy); 0 trusts none.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Content-Security-Policy (django-csp 4): no inline script or style anywhere; static files only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Sessions: signed out after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS
# after signing in whatever happens (partnerhub.accounts.middleware.SessionLifetimeMiddleware).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600  # the cookie never outlives the session
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The language picked on the sign-in page (or the person's, after sign-out): read by
# LocaleMiddleware only; scripts never need it.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# T3: look-ups of an existing org by an admin's email, per partner user per hour (audited).
TRIAL_ORG_LOOKUPS_PER_HOUR = int(os.environ.get("TRIAL_ORG_LOOKUPS_PER_HOUR", "20"))

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
