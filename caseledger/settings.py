"""Django settings for CaseLedger, read from environment variables (see README, Configuration)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from caseledger import config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CASELEDGER_VAR_DIR", BASE_DIR / "var"))
# Local state: the SQLite database and job queue by default, the dev secret, collected static.
VAR_DIR.mkdir(parents=True, exist_ok=True)
ENV: dict[str, str] = dict(os.environ)

PRODUCTION = ENV.get("CASELEDGER_ENV", "development") == "production"
DEBUG = config.env_bool(ENV, "DEBUG", default=not PRODUCTION)
TESTING = config.env_bool(ENV, "CASELEDGER_TESTING", default="pytest" in sys.modules)

SECRET_KEY = config.secret_key(ENV, PRODUCTION, VAR_DIR)
FIELD_ENCRYPTION_KEYS = config.field_encryption_keys(ENV, PRODUCTION, VAR_DIR)
# Key of the A-number lookup hash; empty = derived from the oldest FIELD_ENCRYPTION_KEYS entry
# (see caseledger/core/crypto.py and docs/adr/005-field-encryption.md).
FIELD_HASH_KEY = config.field_hash_key(ENV)
# HMAC keys of the audit chain, id -> key, newest first (CASELEDGER_AUDIT_KEY; dev: var/audit_key)
# and the file the daily signed chain head is appended to (core.anchors, docs/adr/002).
AUDIT_KEYS = config.audit_keys(ENV, PRODUCTION, VAR_DIR)
# Every cross-check `manage.py verify` runs: name -> function returning one line per difference.
VERIFY_CHECKS = {
    "ledger": "caseledger.ledger.selectors.ledger_verify",
    "audit": "caseledger.core.anchors.audit_problems",
    "entries_vs_audit": "caseledger.ledger.selectors.entries_audit_verify",
    "invoices": "caseledger.payments.selectors.invoices_verify_today",
    "invoice_tally": "caseledger.payments.selectors.invoice_tally_verify",
    "invoice_lines": "caseledger.billing.selectors.invoices_lines_verify",
    "payments": "caseledger.payments.selectors.payments_ledger_verify",
    "deposits": "caseledger.trust.selectors.deposits_ledger_verify",
    "aging": "caseledger.collections.selectors.aging_facts_verify",
    "aging_open": "caseledger.collections.selectors.aging_open_verify",
    "aging_buckets": "caseledger.collections.selectors.aging_buckets_verify",
    "kpi_summary": "caseledger.reports.summary.verify",
}
AUDIT_ANCHOR_PATH = Path(ENV.get("CASELEDGER_AUDIT_ANCHOR_PATH") or VAR_DIR / "audit-anchors.jsonl")

# `manage.py backup` / `restore` (core.backups): the AES-256-GCM key (32 bytes, URL-safe base64)
# and where backups go by default.
BACKUP_KEY = ENV.get("CASELEDGER_BACKUP_KEY", "")
BACKUP_DIR = Path(ENV.get("CASELEDGER_BACKUP_DIR") or VAR_DIR / "backups")

ALLOWED_HOSTS = config.allowed_hosts(ENV, PRODUCTION)
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in ENV.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# Absolute base of every link in emails and PDFs (caseledger.core.links builds them);
# `make run PORT=...` exports it for the port it serves on unless it is set.
SITE_URL = config.site_url(ENV, PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's widget templates, for FORM_RENDERER below.
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "huey.contrib.djhuey",
    # Listed so the API docs page loads Swagger UI from our static files, not a CDN (CSP).
    "ninja",
    "caseledger.core",
    "caseledger.clients",
    "caseledger.matters",
    "caseledger.billing",
    "caseledger.ledger",
    "caseledger.banking",
    "caseledger.payments",
    "caseledger.trust",
    "caseledger.api",
    "caseledger.credits",
    "caseledger.collections",
    "caseledger.reports",
    "caseledger.portal",
    "caseledger.imports",
]

MIDDLEWARE = [
    # First: /healthz, /readyz and /metrics answer before the host check, the HTTPS redirect
    # and sessions; every other request gets its request id and access log line here.
    "caseledger.core.observability.ObservabilityMiddleware",
    # A reading request's memo of what its middleware and page read more than once (core.context).
    "caseledger.core.middleware.RequestMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Per API token: API_TOKEN_RATE_LIMIT requests a minute (core.security).
    "caseledger.core.security.ApiTokenRateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends a signed-in session idle past its role's limit (core.security).
    "caseledger.core.security.IdleTimeoutMiddleware",
    # Read-your-writes with a replica: writing requests and their session's next ones read the
    # primary (core.replica).
    "caseledger.core.replica.ReplicaPinMiddleware",
    "caseledger.core.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "caseledger.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "caseledger.urls"
WSGI_APPLICATION = "caseledger.wsgi.application"
ASGI_APPLICATION = "caseledger.asgi.application"

# Widgets render through TEMPLATES, so caseledger/templates/django/forms/ can replace a stock
# widget template (select.html: its options without an include each).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "caseledger" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "caseledger.core.context_processors.navigation",
                "caseledger.payments.context_processors.demo_banner",
            ],
        },
    },
]

# The application connects with DATABASE_URL: on PostgreSQL a role that may only SELECT and
# INSERT on the append-only tables (``manage.py db_roles`` creates and grants it). When
# DATABASE_OWNER_URL is set, the commands that change the schema or the grants (migrate,
# db_roles) connect as that owner role instead (docs/adr/002-hash-chained-audit-log.md).
# Connections live for one request (the development server's thread per connection kept them
# otherwise); production web processes borrow from a bounded pool (see docs/architecture.md,
# Connections).
DATABASE_APP_URL = ENV.get("DATABASE_URL", "")
DATABASE_OWNER_URL = ENV.get("DATABASE_OWNER_URL", "")
OWNER_COMMANDS = {"migrate", "db_roles"}
_command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""
DATABASES = {
    "default": config.database_config(
        DATABASE_OWNER_URL
        if DATABASE_OWNER_URL and _command in OWNER_COMMANDS
        else ENV.get("DATABASE_URL"),
        VAR_DIR,
        pool=config.db_pool(ENV, PRODUCTION),
    )
}
# Reports, dashboards and exports read from a PostgreSQL replica when DATABASE_REPLICA_URL is
# set; writes, transactions and read-your-writes stay on the primary (core.replica; README,
# Deployment). Tests get the alias as a mirror of the test database, off unless a test turns
# REPLICA_READS on.
DATABASE_REPLICA_URL = ENV.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = config.replica_config(
        DATABASE_REPLICA_URL, DATABASES["default"], VAR_DIR, pool=config.db_pool(ENV, PRODUCTION)
    )
elif TESTING:
    DATABASES["replica"] = config.mirror_replica_config(DATABASES["default"])
REPLICA_READS = bool(DATABASE_REPLICA_URL)
# Seconds a session reads from the primary after a request that may have written.
REPLICA_PIN_SECONDS = config.env_int(ENV, "REPLICA_PIN_SECONDS", 15)
DATABASE_ROUTERS = ["caseledger.core.replica.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is not what the tests exercise; MD5 keeps fixtures fast. Never in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Common passwords and the trade's and the firm's words with decorations taken off.
    {"NAME": "caseledger.core.security.ContextualPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

# django-axes: lock the username after five failed attempts; an admin unlocks from the user page.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Lock by account, not by IP: a firm's whole office shares one address behind NAT.
# models.W040: the invoice KPI index (billing 0016) carries INCLUDE columns for PostgreSQL's
# index-only scans; SQLite keeps the index without them, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]

OTP_TOTP_ISSUER = "CaseLedger"

# Sessions and CSRF
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 10
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Idle timeout (core.security.IdleTimeoutMiddleware): minutes without a request after which a
# signed-in session ends; SESSION_COOKIE_AGE stays the absolute limit.
SESSION_IDLE_MINUTES_STAFF = config.env_int(ENV, "SESSION_IDLE_MINUTES_STAFF", 30)
SESSION_IDLE_MINUTES_CLIENT = config.env_int(ENV, "SESSION_IDLE_MINUTES_CLIENT", 15)
# Requests per minute per API token (0: no limit); counted in CACHES["default"].
# Off by default under tests (the API contract run fuzzes faster than a person); tests set it.
API_TOKEN_RATE_LIMIT = config.env_int(ENV, "API_TOKEN_RATE_LIMIT", 0 if TESTING else 600, minimum=0)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    # SECURE_COOKIES=false only for `make serve` on plain-HTTP loopback (caseledger/serve_env.py).
    SESSION_COOKIE_SECURE = config.env_bool(ENV, "SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = config.env_bool(ENV, "SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'", "https://checkout.stripe.com"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
# The languages a client reads the portal in (Client.preferred_language; staff pages stay in the
# firm's language). Catalogs: caseledger/<app>/locale/.
LANGUAGES = [("en", "English"), ("es", "Español")]
# One date format on every page: the firm locale's formats (caseledger/formats/<lang>/).
FORMAT_MODULE_PATH = ["caseledger.formats"]
TIME_ZONE = ENV.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    # runserver serves from the apps' static folders; whitenoise only warns when this is absent.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

_email = config.email_config(ENV.get("EMAIL_URL"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = ENV.get("DEFAULT_FROM_EMAIL", "billing@caseledger.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (core.outbox): a claim older than this is a dead sender's and is sent again; every
# message's Message-ID is <readable-key.hash@OUTBOX_MESSAGE_ID_DOMAIN> (default: SITE_URL's host).
OUTBOX_STALE_MINUTES = int(ENV.get("OUTBOX_STALE_MINUTES", "15"))
OUTBOX_MESSAGE_ID_DOMAIN = ENV.get("OUTBOX_MESSAGE_ID_DOMAIN", "")

# Online payments: "sandbox" (built in, simulates a processor; demo and tests) or "stripe".
PAYMENT_PROVIDER = ENV.get("PAYMENT_PROVIDER", "sandbox").strip().lower()
if PAYMENT_PROVIDER not in {"sandbox", "stripe"}:
    raise ImproperlyConfigured(
        f"PAYMENT_PROVIDER: must be sandbox or stripe (got {PAYMENT_PROVIDER!r})"
    )
# A demonstration install may run the sandbox in production; every page then carries a banner
# "Demo: card payments are simulated". Without it, sandbox + production refuses to start.
DEMO_SANDBOX_PAYMENTS = config.env_bool(ENV, "CASELEDGER_DEMO_SANDBOX_PAYMENTS", default=False)
config.payment_provider_check(
    provider=PAYMENT_PROVIDER, production=PRODUCTION, demo_sandbox=DEMO_SANDBOX_PAYMENTS
)
STRIPE_SECRET_KEY = ENV.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = ENV.get("STRIPE_WEBHOOK_SECRET", "")
if (
    PAYMENT_PROVIDER == "stripe"
    and PRODUCTION
    and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)
):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET: both required when PAYMENT_PROVIDER=stripe"
    )

REDIS_URL = ENV.get("REDIS_URL", "")
# The cache holds the API rate-limit counters: shared by every process through Redis when
# REDIS_URL is set; otherwise per process (docs/security.md lists it).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "caseledger",
        "url": REDIS_URL,
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "caseledger",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# Log lines: JSON objects with the request id (core.logs) by default in production, text
# otherwise; LOG_FORMAT=json|text chooses.
LOG_FORMAT = ENV.get("LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT: must be json or text (got {LOG_FORMAT!r})")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "caseledger.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "caseledger.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # ofxtools logs every element it converts at INFO.
        "ofxtools": {"level": "WARNING"},
        # One line per request from core.observability (runserver prints its own in text).
        "caseledger.access": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        # The consumer adds its own handler to a "huey" logger that has none (lines twice).
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Operations (core.observability): /metrics answers only with this bearer token (unset: off).
METRICS_TOKEN = ENV.get("CASELEDGER_METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("CASELEDGER_METRICS_TOKEN: must be at least 24 characters")
# Gauges read at scrape time from apps above core: name -> (help, dotted path of a function
# returning [(labels, value)]).
METRICS_GAUGES = {
    "caseledger_reconciliation_age_seconds": (
        "Seconds since each active bank account's newest signed reconciliation (never "
        "reconciled: since the account was created).",
        "caseledger.banking.metrics.reconciliation_age_seconds",
    ),
}
