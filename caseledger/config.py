"""Parsing of environment configuration.

Each parser raises ``ImproperlyConfigured`` with one message that names the variable and the rule,
so a bad deployment fails at start-up with a sentence a person can act on.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

DATABASE_URL_INVALID = (
    "DATABASE_URL: must look like postgres://user:password@host:5432/name or "
    "sqlite:////absolute/path.db (got {value!r})"
)
SECRET_KEY_MISSING = (
    "CASELEDGER_SECRET_KEY: required in production (CASELEDGER_ENV=production); "
    "set it to a long random string"
)
FIELD_KEYS_MISSING = (
    "FIELD_ENCRYPTION_KEYS: required in production; a comma-separated list of Fernet keys, "
    "newest first"
)
FIELD_KEYS_INVALID = "FIELD_ENCRYPTION_KEYS: key {index} is not a valid Fernet key"
FIELD_HASH_KEY_INVALID = (
    "FIELD_HASH_KEY: must be at least 32 characters (the key of the A-number lookup hash; "
    "it must never change once data exists)"
)
EMAIL_URL_INVALID = (
    "EMAIL_URL: must be smtp://user:password@host:port, smtps://..., console:// or "
    "locmem:// (got {value!r})"
)
BOOL_INVALID = "{name}: must be one of 1/0, true/false, yes/no, on/off (got {value!r})"
SITE_URL_INVALID = (
    "SITE_URL: must be an absolute http:// or https:// address without a query, e.g. "
    "https://billing.example-law.com (got {value!r})"
)
SITE_URL_MISSING = (
    "SITE_URL: required in production; the address clients reach this install at, e.g. "
    "https://billing.example-law.com (every link in emails and PDFs starts with it)"
)
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
ALLOWED_HOSTS_MISSING = (
    "ALLOWED_HOSTS: required in production; a comma-separated list of the host names this "
    "install answers to, e.g. billing.example-law.com"
)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ***, so error messages never print a secret."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    return url


def site_url(environ: dict[str, str], production: bool = False) -> str:
    """The absolute base of links in emails and PDFs, without a trailing slash. Unset or empty:
    required in production, else the development server's default address (``make run`` sets
    it from its PORT)."""
    raw = environ.get("SITE_URL", "").strip()
    if not raw:
        if production:
            raise ImproperlyConfigured(SITE_URL_MISSING)
        return DEFAULT_SITE_URL
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(SITE_URL_INVALID.format(value=redact_url(raw)))
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(SITE_URL_INVALID.format(value=redact_url(raw))) from exc
    return raw.rstrip("/")


def allowed_hosts(environ: dict[str, str], production: bool) -> list[str]:
    raw = environ.get("ALLOWED_HOSTS", "" if production else "127.0.0.1,localhost")
    hosts = [h.strip() for h in raw.split(",") if h.strip()]
    if production and not hosts:
        raise ImproperlyConfigured(ALLOWED_HOSTS_MISSING)
    return hosts


_SUPPORTED_DB_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def env_bool(environ: dict[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(BOOL_INVALID.format(name=name, value=raw))


DB_POOL_INVALID = "{name}: must be a whole number of at least {minimum} (got {value!r})"
DEFAULT_WORKERS = 4  # README: gunicorn caseledger.wsgi --workers 4
DEFAULT_DB_CONNECTIONS = 20


def env_int(environ: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` from the environment (unset: ``default``)."""
    return _env_int(environ, name, default, minimum)


def _env_int(environ: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ImproperlyConfigured(DB_POOL_INVALID.format(name=name, minimum=minimum, value=raw))
    return int(raw)


def db_pool(environ: dict[str, str], production: bool) -> dict[str, Any] | None:
    """psycopg pool options for a production web process, None elsewhere.

    ``CASELEDGER_DB_CONNECTIONS`` (default 20) is what all web processes together may hold;
    each process (``WEB_CONCURRENCY`` or ``CASELEDGER_WORKERS``, default 4: gunicorn's worker
    count) gets its share, at least 2. A request thread waits up to
    ``CASELEDGER_DB_POOL_TIMEOUT`` seconds (default 10) for a free connection. Off in
    development and tests (connections are closed after each request there) and with
    ``CASELEDGER_DB_POOL=0`` (e.g. behind PgBouncer)."""
    if not env_bool(environ, "CASELEDGER_DB_POOL", default=production):
        return None
    workers = _env_int(
        environ,
        "WEB_CONCURRENCY",
        _env_int(environ, "CASELEDGER_WORKERS", DEFAULT_WORKERS),
    )
    budget = _env_int(environ, "CASELEDGER_DB_CONNECTIONS", DEFAULT_DB_CONNECTIONS, minimum=2)
    max_size = max(2, budget // workers)
    return {
        "min_size": 1,
        "max_size": max_size,
        "timeout": _env_int(environ, "CASELEDGER_DB_POOL_TIMEOUT", 10),
    }


def database_config(
    url: str | None, var_dir: Path, *, pool: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return Django's DATABASES["default"] for ``url`` (None: the embedded SQLite file).

    Connections are never kept past their request (``CONN_MAX_AGE`` 0): the development
    server runs a thread per connection, and connections kept per thread piled up until
    PostgreSQL refused new ones. On PostgreSQL in production ``pool`` (``db_pool``) lends them
    from a bounded psycopg pool per process instead."""
    if not url:
        url = f"sqlite:///{var_dir / 'caseledger.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme not in _SUPPORTED_DB_SCHEMES:
        raise ImproperlyConfigured(DATABASE_URL_INVALID.format(value=redact_url(url)))
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(DATABASE_URL_INVALID.format(value=redact_url(url))) from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config.get("NAME") or config["NAME"] == ":memory:":
            raise ImproperlyConfigured(DATABASE_URL_INVALID.format(value=redact_url(url)))
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so a transaction that reads a balance and
            # then writes cannot interleave with another writer (SQLite's row lock equivalent).
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=30000;"
            ),
        }
    else:
        if not config.get("NAME"):
            raise ImproperlyConfigured(DATABASE_URL_INVALID.format(value=redact_url(url)))
        config["CONN_MAX_AGE"] = 0
        # No JIT compilation: the app's statements are short, and PostgreSQL's JIT spent 50-90 ms
        # compiling a page's aggregates that then ran in a few (docs/architecture.md,
        # Connections). An ``options`` in the URL's query string takes precedence.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("options", "-c jit=off")
        if pool:
            # Django's psycopg pool (psycopg[pool]); Django requires CONN_MAX_AGE 0 with it.
            options["pool"] = dict(pool)
        else:
            config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_REPLICA_URL_INVALID = (
    "DATABASE_REPLICA_URL: must be a postgres://user:password@host:5432/name address of a "
    "replica streaming from the PostgreSQL primary that DATABASE_URL names (got {value!r})"
)


def replica_config(
    url: str, primary: dict[str, Any], var_dir: Path, *, pool: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Django's DATABASES["replica"] for ``DATABASE_REPLICA_URL`` (core.replica routes report
    reads to it). Both it and the primary must be PostgreSQL. In tests the alias is a second
    connection to the test database (``TEST: {"MIRROR": "default"}``)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite" or primary["ENGINE"] == "django.db.backends.sqlite3":
        raise ImproperlyConfigured(DATABASE_REPLICA_URL_INVALID.format(value=redact_url(url)))
    try:
        config = database_config(url, var_dir, pool=pool)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            DATABASE_REPLICA_URL_INVALID.format(value=redact_url(url))
        ) from exc
    config["TEST"] = {"MIRROR": "default"}
    return config


def mirror_replica_config(primary: dict[str, Any]) -> dict[str, Any]:
    """The ``replica`` alias of a test run without DATABASE_REPLICA_URL: the primary's settings
    as a second connection mirroring the test database; the router uses it only where a test
    turns ``REPLICA_READS`` on."""
    return {**primary, "OPTIONS": dict(primary.get("OPTIONS", {})), "TEST": {"MIRROR": "default"}}


def secret_key(environ: dict[str, str], production: bool, var_dir: Path) -> str:
    key = environ.get("CASELEDGER_SECRET_KEY", "")
    if key:
        return key
    if production:
        raise ImproperlyConfigured(SECRET_KEY_MISSING)
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def field_encryption_keys(environ: dict[str, str], production: bool, var_dir: Path) -> list[str]:
    raw = environ.get("FIELD_ENCRYPTION_KEYS", "")
    if not raw:
        if production:
            raise ImproperlyConfigured(FIELD_KEYS_MISSING)
        path = var_dir / "field_encryption_keys"
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        raw = path.read_text().strip()
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(FIELD_KEYS_INVALID.format(index=index)) from exc
    if not keys:
        raise ImproperlyConfigured(FIELD_KEYS_MISSING)
    return keys


def field_hash_key(environ: dict[str, str]) -> str:
    """Optional separate key for lookup hashes ('' = derive from the oldest encryption key)."""
    key = environ.get("FIELD_HASH_KEY", "").strip()
    if key and len(key) < 32:
        raise ImproperlyConfigured(FIELD_HASH_KEY_INVALID)
    return key


AUDIT_KEY_MISSING = (
    "CASELEDGER_AUDIT_KEY: required in production; a comma-separated list of secrets of at "
    "least 32 characters, newest first (the HMAC keys of the audit chain)"
)
AUDIT_KEY_INVALID = "CASELEDGER_AUDIT_KEY: key {index} is shorter than 32 characters"


def audit_key_id(key: str) -> str:
    """The id stored with each audit event: the first 12 hex digits of the key's SHA-256 (the
    key itself never reaches the database)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def audit_keys(environ: dict[str, str], production: bool, var_dir: Path) -> dict[str, str]:
    """The audit chain's HMAC keys, id -> key, newest first (new events use the first; any
    listed key verifies the events it signed, so rotation is: put the new key in front)."""
    raw = environ.get("CASELEDGER_AUDIT_KEY", "")
    if not raw:
        if production:
            raise ImproperlyConfigured(AUDIT_KEY_MISSING)
        path = var_dir / "audit_key"
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        raw = path.read_text().strip()
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured(AUDIT_KEY_MISSING)
    for index, key in enumerate(keys, start=1):
        if len(key) < 32:
            raise ImproperlyConfigured(AUDIT_KEY_INVALID.format(index=index))
    return {audit_key_id(k): k for k in keys}


def email_config(url: str | None) -> dict[str, Any]:
    """Map EMAIL_URL to Django's EMAIL_* settings (default: print mail to the console)."""
    if not url:
        url = "console://"
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps", "smtp+tls"} or not parts.hostname:
        raise ImproperlyConfigured(EMAIL_URL_INVALID.format(value=redact_url(url)))
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(EMAIL_URL_INVALID.format(value=redact_url(url))) from exc
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls" or query.get("tls", ["0"])[0] == "1",
        "EMAIL_TIMEOUT": 20,
    }


SANDBOX_IN_PRODUCTION = (
    "PAYMENT_PROVIDER: the sandbox provider is refused in production (CASELEDGER_ENV=production): "
    "its pay page marks any checkout paid for whoever holds the link. Use PAYMENT_PROVIDER=stripe, "
    "or, for a demonstration install only, set CASELEDGER_DEMO_SANDBOX_PAYMENTS=true (every page "
    "then says that card payments are simulated)."
)


def sandbox_problem(*, provider: str, production: bool, demo_sandbox: bool) -> str:
    """The refusal message when the sandbox payment provider would run in production without
    the demo setting; "" when the combination is allowed."""
    if provider == "sandbox" and production and not demo_sandbox:
        return SANDBOX_IN_PRODUCTION
    return ""


def payment_provider_check(*, provider: str, production: bool, demo_sandbox: bool) -> None:
    """At start-up: raise ImproperlyConfigured for the sandbox provider in production (see
    ``sandbox_problem``)."""
    problem = sandbox_problem(provider=provider, production=production, demo_sandbox=demo_sandbox)
    if problem:
        raise ImproperlyConfigured(problem)
