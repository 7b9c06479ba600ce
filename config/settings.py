"""Settings for every environment.

Environments differ only by environment variables (see the README's configuration table).
The defaults are for local use: SQLite, console e-mail, Celery tasks run inline, a local-memory
cache and the project's own Stripe stand-in. Production refuses to start with unsafe values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# --- Core ------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("DJANGO_TESTING", default="pytest" in sys.modules)

_INSECURE_KEY = "django-insecure-local-development-key-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_INSECURE_KEY if (DEBUG or TESTING) else "")
if not (DEBUG or TESTING) and (not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]", "testserver"] if (DEBUG or TESTING) else [],
)
if not (DEBUG or TESTING) and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Relay")
SITE_ID = 1

INSTALLED_APPS = [
    "config.admin_apps.RelayAdminConfig",  # django.contrib.admin with the staff site (config.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    # Third party
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.headless",
    "djstripe",
    "hijack",  # impersonation for support (staff.impersonation holds the rules)
    # Project (platform first: the outbox imports no feature app)
    "config",  # the platform itself (config.apps): start-up hooks, media_to_bucket
    "outbox",
    "idempotency",  # Idempotency-Key on the API's writes (a platform app, like the outbox)
    "audit",  # the staff audit log (below accounts: every app's admin records into it)
    "accounts",
    "social",
    "billing",
    "referrals",
    "integrations",
    "staff",  # the staff panel inside the admin: dashboard, user 360, impersonation (top layer)
    # The local Stripe stand-in (development only: kept out of the production image, see
    # .dockerignore) provides `manage.py stripe_local` and `stripe_local_wait`.
    *(["stripe_local"] if (DEBUG or TESTING) else []),
]

MIDDLEWARE = [
    "accounts.middleware.ClientIpMiddleware",  # first: every later reader sees the one client IP
    "config.middleware.RequestIdMiddleware",
    "config.guards.RequestGuardMiddleware",  # NUL bytes, deep JSON, bodies over the limit: 4xx
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, its user row read with a precompiled query (accounts.session_auth).
    "accounts.middleware.SessionUserMiddleware",
    "config.middleware.PrivateCacheMiddleware",  # signed-in answers: Cache-Control private, no-store
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the header built once per process
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserSessionsMiddleware",  # allauth's, throttled to once a minute
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.UserTimezoneMiddleware",
    "hijack.middleware.HijackUserMiddleware",  # marks an impersonated session (request.user.is_hijacked)
    "staff.middleware.ImpersonationMiddleware",  # what an impersonated session may not do; its time limit
    "staff.middleware.ActivityMiddleware",  # once a day per user: the dashboard's active users
    # Idempotency-Key on the API's writes: the view and the record of its answer in one
    # transaction. Inside every middleware that may refuse the request (impersonation, guards,
    # CSRF), outside the fault middleware, whose 503 for a connection lost in the view it sees.
    "idempotency.middleware.IdempotencyMiddleware",
    # Innermost, so it sees what views raise: a lost database connection retries a read, else 503.
    "config.faults.DatabaseFaultMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.context_processors.site",
            ],
            # Presentational filters (relative times) usable in every template without {% load %}.
            "builtins": ["config.templatetags.ui"],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    # Django's backend, its health check answered by the idle socket unless that shows a trace
    # of the connection having ended (config/postgresql/base.py): no SELECT 1 per request.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Persistent connections: a fresh PostgreSQL connection makes the first query ~3x slower.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A connection that ended between requests (database restart) is replaced before the
    # request's first query, not failed by it; config.postgresql makes the check free while the
    # connection is well. Without it such a connection fails one request per worker.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
    # psycopg prepares only the statements that ask for it (the home feed's hand-written query,
    # social.selectors): Django's default (None) turns preparing off even on request.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
    if env.str("DATABASE_TEST_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent webhooks on SQLite need a write lock taken up front and a patient timeout.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Redis, Celery ------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The test suite runs split over pytest-xdist workers (scripts/test). A test's cache.clear()
# empties its whole Redis database, so each worker gets a database of its own: gwN uses the
# configured number plus N + 1.
_XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="") if TESTING else ""
if REDIS_URL and _XDIST_WORKER.startswith("gw"):
    _redis = urlsplit(REDIS_URL)
    _database = int(_redis.path.strip("/") or 0) + int(_XDIST_WORKER[2:]) + 1
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_database}"))
if REDIS_URL:
    # django-redis keeps one connection pool per process; Django's own RedisCache builds a new
    # client on every call (~0.2 ms each, bench/RESULTS.md).
    # config.cache wraps it: when Redis is down every call is answered from this process's
    # memory (sessions then load from PostgreSQL, rate limits count per process), see there.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="relay"),
            # Fail fast: an unreachable Redis costs at most this once per retry pause.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
# A publish to a broker that is down fails within ~1 s and the task runs inline instead
# (config.celery.ResilientTask), rather than holding the request for kombu's default retries.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
# Every periodic task, in one place (run by `celery -A config beat`).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "outbox-send-due": {"task": "outbox.tasks.email_send_due", "schedule": 60.0},
    "billing-reconcile": {"task": "billing.tasks.billing_reconcile", "schedule": crontab(hour=3, minute=20)},
    "billing-dunning-notices": {"task": "billing.tasks.dunning_notices_send", "schedule": crontab(minute=5)},
    "integrations-api-key-expiry-warnings": {
        "task": "integrations.tasks.api_key_expiry_warnings_send",
        "schedule": crontab(minute=15),
    },
    "integrations-stripe-customers-backfill": {
        "task": "integrations.tasks.stripe_customers_backfill",
        "schedule": crontab(hour=4, minute=40),
    },
    "referrals-grant-due-rewards": {"task": "referrals.tasks.rewards_grant_due", "schedule": 3600.0},
    "social-timeline-trim": {"task": "social.tasks.timeline_trim", "schedule": 3600.0},
    "billing-webhook-events-sweep": {"task": "billing.webhook_tasks.webhook_events_sweep", "schedule": 60.0},
    "billing-webhook-invalid-prune": {
        "task": "billing.webhook_tasks.webhook_invalid_prune",
        "schedule": crontab(hour=4, minute=10),
    },
    "social-notification-digests": {"task": "social.tasks.notification_digests_send_due", "schedule": 60.0},
    "staff-daily-figures": {"task": "staff.tasks.daily_figures_update", "schedule": crontab(minute="*/15")},
    "idempotency-records-expire": {
        "task": "idempotency.tasks.idempotency_records_expire",
        "schedule": crontab(minute=25),
    },
}
# Hours an API write's Idempotency-Key is remembered (and its answer replayed); then the key is
# free again and the hourly beat task deletes the record (idempotency.middleware).
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
if IDEMPOTENCY_KEY_TTL_HOURS < 1:
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_TTL_HOURS must be at least 1.")

# --- Auth ------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# E-mail is unique case-insensitively through a Lower() constraint, which this check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Same Argon2id algorithm, cheaper parameters (see config/hashers.py).
    PASSWORD_HASHERS = ["config.hashers.TestingArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# allauth: e-mail login, handle as the username, mandatory verification.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = "handle"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Adds the optional referral code to the sign-up page and to the headless sign-up API.
ACCOUNT_SIGNUP_FORM_CLASS = "referrals.forms.SignupForm"
# The password change also offers to stop every API key (default yes); see integrations.receivers.
ACCOUNT_FORMS = {"change_password": "integrations.forms.PasswordChangeForm"}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = True
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# Changing the e-mail address or two-factor settings asks for the password (or a two-factor
# code) again, valid for ACCOUNT_REAUTHENTICATION_TIMEOUT seconds. Password change asks for
# the current password in its own form.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# Rate limits live in the cache (Redis in production). Login failures are counted per IP and
# per (IP, account) so an attacker is slowed down but cannot lock a victim out from elsewhere:
# accounts.adapters.AccountAdapter puts the IP into allauth's per-"key" login_failed counter.
# Hitting "login", "signup", "reset_password" or "confirm_email" answers 429 (templates/429.html).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}

# Per-account cap on wrong passwords, whatever the address (accounts.services.security.
# login_backoff_fail): 10 free, then a wait doubling from 15 s to at most 15 min. Signing in
# with a second factor, a passkey or a password reset is never held up by it.
LOGIN_BACKOFF = {
    "free_failures": env.int("LOGIN_BACKOFF_FREE_FAILURES", default=10),
    "base_seconds": env.int("LOGIN_BACKOFF_BASE_SECONDS", default=15),
    "max_seconds": env.int("LOGIN_BACKOFF_MAX_SECONDS", default=15 * 60),
    "forget_seconds": 24 * 60 * 60,
}

MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = SITE_NAME
# Accept the code of the previous/next 30-second step (clock drift, slow typing); allauth
# still refuses a code that was already used.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

USERSESSIONS_TRACK_ACTIVITY = True
# Ending a session (one, or "all others") writes a line to the owner's security log.
USERSESSIONS_ADAPTER = "accounts.adapters.UserSessionsAdapter"

HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("browser",)
HEADLESS_SERVE_SPECIFICATION = True
# allauth's default page loads Redoc from a CDN; ours serves the bundled copy (drf-spectacular-sidecar).
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "headless/spec/redoc_local.html"
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{SITE_URL}/accounts/confirm-email/{{key}}/",
    "account_reset_password_from_key": f"{SITE_URL}/accounts/password/reset/key/{{key}}/",
    "account_signup": f"{SITE_URL}/accounts/signup/",
}

# --- E-mail ------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Every e-mail (allauth's and Django's included) is recorded in the outbox in the caller's
# transaction, then delivered after commit by a Celery task through the transport EMAIL_URL
# names, retried with back-off, swept every minute if a task is lost (outbox/services.py).
# Under pytest Django swaps EMAIL_BACKEND for locmem; outbox/tests put the outbox back.
EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
OUTBOX_DELIVERY_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
if TESTING:
    OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # tests read mail.outbox
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_SWEEP_GRACE_SECONDS = env.int("OUTBOX_SWEEP_GRACE_SECONDS", default=300)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Notification e-mails: the first at once, then at most one digest per this many minutes per
# person (social/notification_emails.py).
NOTIFICATION_EMAIL_DIGEST_MINUTES = env.int("NOTIFICATION_EMAIL_DIGEST_MINUTES", default=15)

# --- I18N ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded media: an S3-compatible bucket (S3, R2, MinIO, a Railway bucket) when one is named by
# STORAGE_URL (s3://<key>:<secret>@<bucket>?endpoint_url=...&region=...) or the AWS_* variables;
# otherwise the local disk (the embedded default only: on Railway a deploy loses it). Objects
# are private; config.storage.media_url signs short-lived URLs for them.
_STORAGE = env.url("STORAGE_URL", default="")
_STORAGE_QUERY = dict(parse_qsl(_STORAGE.query)) if _STORAGE.scheme else {}
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default=_STORAGE.hostname or "")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=unquote(_STORAGE.username or ""))
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=unquote(_STORAGE.password or ""))
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=_STORAGE_QUERY.get("endpoint_url", ""))
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=_STORAGE_QUERY.get("region", ""))
# Custom endpoints (R2, MinIO, Railway) take bucket-in-path URLs; AWS itself the virtual host.
AWS_S3_ADDRESSING_STYLE = env.str(
    "AWS_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "auto"
)
MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=300)
MEDIA_PUBLIC_URL_SECONDS = env.int("MEDIA_PUBLIC_URL_SECONDS", default=24 * 3600)
# A CDN (or public bucket domain) in front of the bucket, for public media: unsigned URLs there.
MEDIA_PUBLIC_BASE_URL = env.str("MEDIA_PUBLIC_BASE_URL", default="").rstrip("/")
# On the local disk, post images are checked by social.views.media and then streamed by Django,
# or, with this set (e.g. "/protected-media/", an nginx `internal` location aliasing MEDIA_ROOT),
# handed to the web server in front with X-Accel-Redirect.
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")
MEDIA_STORAGE: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "access_key": AWS_ACCESS_KEY_ID or None,
            "secret_key": AWS_SECRET_ACCESS_KEY or None,
            "endpoint_url": AWS_S3_ENDPOINT_URL or None,
            "region_name": AWS_S3_REGION_NAME or None,
            "addressing_style": AWS_S3_ADDRESSING_STYLE,
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": MEDIA_SIGNED_URL_SECONDS,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": MEDIA_STORAGE,
    # Django's and WhiteNoise's storages, each keeping the static URLs it answered (config.static_storage).
    "staticfiles": {
        "BACKEND": (
            "config.static_storage.CachedStaticFilesStorage"
            if (DEBUG or TESTING)
            else "config.static_storage.CachedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)

# --- Security ----------------------------------------------------------------------------------
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS: list[str] = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/(api|_allauth)/.*$"
# The SPA may send an Idempotency-Key on its writes and read whether an answer was a replay and
# how long to wait before retrying (503, 409, 429: Retry-After is not a safelisted header).
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After"]
# The SPA's origins must also be trusted for CSRF, or its unsafe requests are refused.
CSRF_TRUSTED_ORIGINS += [o for o in CORS_ALLOWED_ORIGINS if o not in CSRF_TRUSTED_ORIGINS]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# CSRF failures answer in the API's error shape under /api/ and /_allauth/ (config.http_errors).
CSRF_FAILURE_VIEW = "config.http_errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxies: how many proxies of ours stand in front of the app, each appending the address it saw
# to X-Forwarded-For (1 on Railway or behind one load balancer). With 0 (the default) no
# forwarded header is believed. accounts.request_info.client_ip is the one rule; allauth (through
# accounts.adapters), DRF's throttles and dj-stripe read its result (accounts.middleware).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# ClientIpMiddleware has already replaced REMOTE_ADDR and removed X-Forwarded-For: the libraries'
# own proxy settings stay at 0 so that nothing counts the proxies twice.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
if TRUSTED_PROXY_COUNT:
    # X-Forwarded-Proto is believed only from our own proxies too.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST framework and OpenAPI ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.APIKeyAuthentication",
        "config.api.authentication.SessionAuthentication",  # DRF's; no CSRF work on safe methods
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "config.api.permissions.HasRequiredScopes",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.DefaultCursorPagination",
    # OPTIONS on a view that takes no input answers without describing any (DRF's asserts).
    "DEFAULT_METADATA_CLASS": "config.api.metadata.ApiMetadata",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.ScopedAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's Anon/UserRateThrottle in one, with one Redis round trip instead of two.
        "integrations.throttling.RequestRateThrottle",
        "integrations.throttling.ApiKeyRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The API speaks JSON. Form encodings cannot say null and turn an empty field into "omitted",
    # so a body the schema refuses would pass as a smaller one: only the operations that take a
    # file (a post's images, an avatar) accept multipart as well, each saying so on its view.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Anonymous throttles key on REMOTE_ADDR, already the one client IP (accounts.middleware).
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "DESCRIPTION": (
        "REST API for the single-page app and for personal API keys. "
        "Browser sign-in for the SPA goes through allauth.headless: see "
        "[its specification](/_allauth/openapi.html)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ApiKeyStatusEnum": "integrations.models.ApiKey.Status",
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "RewardStatusEnum": "referrals.models.Reward.Status",
        "NotificationKindEnum": "social.models.Notification.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "idempotency.schema.postprocess_idempotency_key",
    ],
}

# --- Stripe and dj-stripe --------------------------------------------------------------------
# Billing switches on by its keys (HOUSE_STYLE, Settings). In development and tests, without a
# real key the project talks to its own Stripe stand-in (stripe_local), as it uses SQLite
# without a DATABASE_URL. In production (debug off) the stand-in is never used: billing needs a
# real secret key, or BILLING_ENABLED=0 to run without billing (pages say it is not available,
# no webhook URL, no Stripe calls). A live key never falls back to the stand-in.
BILLING_ENABLED = env.bool("BILLING_ENABLED", default=True)
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_LIVE_SECRET_KEY = env.str("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_TEST_SECRET_KEY = env.str("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_LOCAL_ADDR = env.str("STRIPE_LOCAL_ADDR", default="127.0.0.1:12111")
_STRIPE_KEY = STRIPE_LIVE_SECRET_KEY if STRIPE_LIVE_MODE else STRIPE_TEST_SECRET_KEY
if not (DEBUG or TESTING):
    if env.bool("STRIPE_USE_LOCAL", default=False):
        raise ImproperlyConfigured(
            "STRIPE_USE_LOCAL is for development only: the Stripe stand-in is not part of a production "
            "deployment. Unset it and set a Stripe secret key, or set BILLING_ENABLED=0."
        )
    if BILLING_ENABLED and not _STRIPE_KEY:
        raise ImproperlyConfigured(
            "Billing is enabled but no Stripe secret key is set: set "
            + (
                "STRIPE_LIVE_SECRET_KEY (STRIPE_LIVE_MODE is on)"
                if STRIPE_LIVE_MODE
                else "STRIPE_TEST_SECRET_KEY"
            )
            + " and STRIPE_WEBHOOK_SECRET, or set BILLING_ENABLED=0 to run without billing."
        )
    STRIPE_USE_LOCAL = False
else:
    STRIPE_USE_LOCAL = env.bool(
        "STRIPE_USE_LOCAL", default=BILLING_ENABLED and not (STRIPE_LIVE_SECRET_KEY or STRIPE_TEST_SECRET_KEY)
    )
if STRIPE_USE_LOCAL:
    if STRIPE_LIVE_MODE:
        raise ImproperlyConfigured("STRIPE_USE_LOCAL cannot be combined with STRIPE_LIVE_MODE.")
    STRIPE_TEST_SECRET_KEY = STRIPE_TEST_SECRET_KEY or "sk_test_localstandin000000000000000000"
    STRIPE_PUBLISHABLE_KEY = STRIPE_PUBLISHABLE_KEY or "pk_test_localstandin000000000000000000"
    STRIPE_API_HOST = env.str("STRIPE_API_HOST", default=f"http://{STRIPE_LOCAL_ADDR}")
elif BILLING_ENABLED and env.str("STRIPE_API_HOST", default=""):
    # Only set when asked for: dj-stripe warns (djstripe.W002) when a real key has a custom host.
    STRIPE_API_HOST = env.str("STRIPE_API_HOST")
    _api_host = urlsplit(STRIPE_API_HOST)
    # Production talks to Stripe over HTTPS only. The one exception is the production rehearsal
    # (scripts/rehearse-production), which points the real processes at the stand-in over plain
    # HTTP on loopback: it needs PRODUCTION_REHEARSAL=1 as well, a test key and a loopback
    # address, so no deployment reaches the stand-in's address by a stray variable (an unset
    # flag, a live key or another host all refuse to start).
    _rehearsal = (
        env.bool("PRODUCTION_REHEARSAL", default=False)
        and _api_host.scheme == "http"
        and _api_host.hostname in {"127.0.0.1", "localhost", "::1"}
        and not STRIPE_LIVE_MODE
    )
    if not (DEBUG or TESTING) and _api_host.scheme != "https" and not _rehearsal:
        raise ImproperlyConfigured(
            "STRIPE_API_HOST must be an https:// URL when DJANGO_DEBUG is off "
            f"(got {_api_host.scheme or 'no'} scheme). Unset it to talk to Stripe itself."
        )
if not BILLING_ENABLED:
    # No Stripe: nothing to reconcile, no customers to back-fill.
    for _job in ("billing-reconcile", "integrations-stripe-customers-backfill"):
        CELERY_BEAT_SCHEDULE.pop(_job, None)
# Chosen on purpose: dj-stripe 2.11's model helpers read fields (current_period_end,
# invoice.subscription, invoice.paid) that Stripe moved in 2025-03-31.basil. See
# ../shared/stripe/NOTES.md. Every Stripe response the project reads has this version's shape.
STRIPE_API_VERSION = "2025-02-24.acacia"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_SUBSCRIBER_MODEL = "accounts.User"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
# Webhook intake (billing.webhook_intake): a worker's claim on an event keeps other workers off it
# this long (longer than CELERY_TASK_TIME_LIMIT, so a slow event is never taken twice; an event
# whose worker died is taken again when it ends); an invalid delivery is stored in at most this
# many bytes (headers and the start of the body), for this many days.
WEBHOOK_CLAIM_LEASE_SECONDS = env.int("WEBHOOK_CLAIM_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
if WEBHOOK_CLAIM_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "WEBHOOK_CLAIM_LEASE_SECONDS must be longer than CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT} s): a slow event would be taken by a second worker."
    )
WEBHOOK_INVALID_STORED_BYTES = 4096
WEBHOOK_INVALID_RETENTION_DAYS = env.int("WEBHOOK_INVALID_RETENTION_DAYS", default=14)

# --- Content-Security-Policy and Permissions-Policy ------------------------------------------------
# django-csp: only the project's own scripts and styles run, no inline
# code, no eval (htmx's eval is off in templates/base.html's htmx-config). Every page passes it in
# the browser suite (browser_tests/). The API docs pages relax style-src for Redoc/Swagger UI's
# injected styles (config/urls.py).
# Impersonation for support (staff.impersonation): who may is ours, hijack keeps the session;
# its own banner is off (templates/base.html includes ours) and so are its own URLs.
HIJACK_PERMISSION_CHECK = "staff.impersonation.may_impersonate"
HIJACK_INSERT_BEFORE = None
STAFF_IMPERSONATION_MINUTES = env.int("STAFF_IMPERSONATION_MINUTES", default=30)

CSP_MEDIA_ORIGINS: list[str] = env.list("DJANGO_CSP_MEDIA_ORIGINS", default=[])


def _bucket_image_origins() -> list[str]:
    """Where a browser fetches media from when they live in a bucket: the CDN, and the bucket's
    own endpoint (signed URLs), so the img-src policy follows STORAGE_URL without a second setting."""
    if not AWS_STORAGE_BUCKET_NAME:
        return []
    origins = []
    if MEDIA_PUBLIC_BASE_URL:
        cdn = urlsplit(MEDIA_PUBLIC_BASE_URL)
        origins.append(f"{cdn.scheme}://{cdn.netloc}")
    if AWS_S3_ENDPOINT_URL:
        endpoint = urlsplit(AWS_S3_ENDPOINT_URL)
        host = (
            f"{AWS_STORAGE_BUCKET_NAME}.{endpoint.netloc}"
            if AWS_S3_ADDRESSING_STYLE == "virtual"
            else endpoint.netloc
        )
        origins.append(f"{endpoint.scheme}://{host}")
    else:  # AWS itself: the bucket's virtual host, with or without the region
        origins.append(f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com")
        if AWS_S3_REGION_NAME:
            origins.append(f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com")
    return origins


CSP_MEDIA_ORIGINS += [origin for origin in _bucket_image_origins() if origin not in CSP_MEDIA_ORIGINS]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # Checkout and the billing portal are reached by redirects, which form-action allows only
        # to listed origins: Stripe's, or the stand-in's in development and tests.
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"]
        + ([STRIPE_API_HOST] if STRIPE_USE_LOCAL else []),
    }
}
# Powerful browser features the product never uses are off; passkeys and the copy button stay on.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
    "clipboard-write": ["self"],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}

# --- Product settings -------------------------------------------------------------------------
BILLING_GRACE_PERIOD_DAYS = env.int("BILLING_GRACE_PERIOD_DAYS", default=7)
# Dunning e-mails (billing/dunning.py): a reminder this long before each Stripe retry, and a
# final notice this long before the grace period ends.
BILLING_DUNNING_REMINDER_HOURS = env.int("BILLING_DUNNING_REMINDER_HOURS", default=24)
BILLING_DUNNING_FINAL_NOTICE_HOURS = env.int("BILLING_DUNNING_FINAL_NOTICE_HOURS", default=48)
REFERRAL_COOKIE_DAYS = env.int("REFERRAL_COOKIE_DAYS", default=30)
REFERRAL_ATTRIBUTION = env.str("REFERRAL_ATTRIBUTION", default="first")  # "first" or "last" touch
REFERRAL_APPLY_WINDOW_DAYS = env.int("REFERRAL_APPLY_WINDOW_DAYS", default=14)
REFERRAL_REWARD_HOLD_DAYS = env.int("REFERRAL_REWARD_HOLD_DAYS", default=14)
REFERRAL_REFERRER_CREDIT_CENTS = env.int("REFERRAL_REFERRER_CREDIT_CENTS", default=500)
REFERRAL_REFERRED_PERCENT_OFF = env.int("REFERRAL_REFERRED_PERCENT_OFF", default=20)
# A refund takes the referrer's credit back once this share (percent) of the paying charge is refunded
# (docs/billing.md, "Referral credit and refunds"); disputes always do.
REFERRAL_REFUND_REVOKE_PERCENT = env.int("REFERRAL_REFUND_REVOKE_PERCENT", default=50)
REFERRAL_COUPON_ID = env.str("REFERRAL_COUPON_ID", default="relay-referral-welcome")
REFERRAL_BLOCKED_EMAIL_DOMAINS: list[str] = env.list("REFERRAL_BLOCKED_EMAIL_DOMAINS", default=[])
REFERRAL_MAX_SIGNUPS_PER_IP = env.int("REFERRAL_MAX_SIGNUPS_PER_IP", default=3)
REFERRAL_SIGNUP_IP_WINDOW_HOURS = env.int("REFERRAL_SIGNUP_IP_WINDOW_HOURS", default=24)
# Social anti-spam limits per user ("count/s|m|h|d"); posts per day also come from entitlements.
SOCIAL_RATE_LIMITS = {
    "post": env.str("SOCIAL_RATE_POST", default="30/m"),
    "reply": env.str("SOCIAL_RATE_REPLY", default="30/m"),
    "follow": env.str("SOCIAL_RATE_FOLLOW", default="60/m"),
    "report": env.str("SOCIAL_RATE_REPORT", default="10/h"),
}
SOCIAL_POST_IMAGE_MAX_BYTES = env.int("SOCIAL_POST_IMAGE_MAX_BYTES", default=8 * 1024 * 1024)
SOCIAL_TIMELINE_BACKFILL = env.int("SOCIAL_TIMELINE_BACKFILL", default=100)
SOCIAL_TIMELINE_KEEP = env.int("SOCIAL_TIMELINE_KEEP", default=800)  # home-feed entries kept per user
# Home-feed fan-out: an author with more followers than this is not pushed to each follower's
# feed; feeds merge their posts in at read time. Below it, a post reaches this many followers
# per task (social/feeds/fanout.py, the "fanout" Celery queue).
FEED_FANOUT_MAX_FOLLOWERS = env.int("FEED_FANOUT_MAX_FOLLOWERS", default=10_000)
FEED_FANOUT_CHUNK_SIZE = env.int("FEED_FANOUT_CHUNK_SIZE", default=2_000)
API_KEY_PREFIX = env.str("API_KEY_PREFIX", default="relay")
API_KEY_ENVIRONMENT = env.str("API_KEY_ENVIRONMENT", default="live" if STRIPE_LIVE_MODE else "test")
# How often the "create this user's Stripe customer" task retries (backoff up to 10 min apart)
# before the daily backfill takes over. Not at all when tasks run inline: an eager retry would
# hold up the request (e-mail confirmation) that scheduled it.
STRIPE_CUSTOMER_SYNC_MAX_RETRIES = env.int(
    "STRIPE_CUSTOMER_SYNC_MAX_RETRIES", default=0 if CELERY_TASK_ALWAYS_EAGER else 12
)

# Staff: an admin session ends this many seconds after the staff member signed in (user sessions
# last SESSION_COOKIE_AGE); past it the admin signs them out and asks them to sign in again.
STAFF_SESSION_AGE = env.int("STAFF_SESSION_AGE", default=8 * 3600)

# --- Logging ---------------------------------------------------------------------------------------
LOG_JSON = env.bool("DJANGO_LOG_JSON", default=not DEBUG and not TESTING)
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # One access line per request comes from config.middleware; Django's own is redundant.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "stripe": {"level": "WARNING"},
    },
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:  # pragma: no cover - only with a real DSN
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
