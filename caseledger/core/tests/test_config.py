"""Configuration from the environment: one clear message for each mistake, and a production
mode that passes Django's deployment checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from caseledger import config

ROOT = Path(__file__).resolve().parents[3]


def run_manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH"}
    }
    base["CASELEDGER_VAR_DIR"] = str(tmp_path / "var")
    base.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "CASELEDGER_ENV": "production",
        "CASELEDGER_SECRET_KEY": "x7#Kq!v2" * 8,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "CASELEDGER_AUDIT_KEY": "audit-key-" + "k" * 40,
        "ALLOWED_HOSTS": "billing.example-law.com",
        "SITE_URL": "https://billing.example-law.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
        # The sandbox card processor is refused in production (payments.E001).
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_config",
        "STRIPE_WEBHOOK_SECRET": "whsec_config",
    }


def test_production_passes_check_deploy(tmp_path):
    result = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path), tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CASELEDGER_SECRET_KEY": ""}, config.SECRET_KEY_MISSING),
        ({"FIELD_ENCRYPTION_KEYS": ""}, config.FIELD_KEYS_MISSING),
        ({"ALLOWED_HOSTS": ""}, config.ALLOWED_HOSTS_MISSING),
        ({"SITE_URL": ""}, config.SITE_URL_MISSING),
        (
            {"FIELD_ENCRYPTION_KEYS": "not-a-key"},
            "FIELD_ENCRYPTION_KEYS: key 1 is not a valid Fernet key",
        ),
        (
            {"DATABASE_URL": "postgres://app:s3cret@db:notaport/caseledger"},  # secret-scan: allow
            "DATABASE_URL: must look like postgres://user:password@host:5432/name",
        ),
        ({"DATABASE_URL": "mysql://db/caseledger"}, "DATABASE_URL: must look like"),
        ({"DEBUG": "maybe"}, "DEBUG: must be one of 1/0, true/false, yes/no, on/off (got 'maybe')"),
        ({"EMAIL_URL": "pigeon://coop"}, "EMAIL_URL: must be smtp://"),
        (
            {"SITE_URL": "billing.example-law.com"},
            "SITE_URL: must be an absolute http:// or https:// address",
        ),
    ],
)
def test_bad_configuration_gives_one_clear_message(tmp_path, env, message):
    merged = {**production_env(tmp_path), **env}
    merged = {k: v for k, v in merged.items() if v != ""}
    result = run_manage(["check"], merged, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CaseLedger configuration error: ")
    assert message in lines[0]
    assert "s3cret" not in result.stderr  # a password in DATABASE_URL is never echoed


def test_database_url_parsing(tmp_path):
    pg = config.database_config("postgres://u:p@db.internal:5433/cl", tmp_path)
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["HOST"], pg["PORT"], pg["NAME"]) == ("db.internal", 5433, "cl")
    lite = config.database_config(None, tmp_path)
    assert lite["NAME"] == str(tmp_path / "caseledger.sqlite3")
    assert lite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        config.database_config("sqlite://", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        config.database_config("postgres://u@h:5432/", tmp_path)


def test_postgres_connections_start_with_jit_off(tmp_path):
    """JIT compilation cost page aggregates 50-90 ms at a million invoices; a URL's own
    ``options`` take precedence."""
    pg = config.database_config("postgres://u:p@h:5432/cl", tmp_path)
    assert pg["OPTIONS"]["options"] == "-c jit=off"
    own = config.database_config("postgres://u:p@h:5432/cl?options=-c%20work_mem%3D8MB", tmp_path)
    assert own["OPTIONS"]["options"] == "-c work_mem=8MB"
    pooled = config.database_config("postgres://u:p@h:5432/cl", tmp_path, pool={"max_size": 2})
    assert pooled["OPTIONS"] == {"options": "-c jit=off", "pool": {"max_size": 2}}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_apps_postgres_connection_has_jit_off(require_postgres):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW jit")
        assert cur.fetchone() == ("off",)


def test_development_secret_is_generated_once(tmp_path):
    first = config.secret_key({}, False, tmp_path)
    assert first == config.secret_key({}, False, tmp_path)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_email_url_parsing():
    smtp = config.email_config("smtps://me%40x.com:p%2Fw@mail.example.com")
    assert smtp["EMAIL_PORT"] == 465
    assert smtp["EMAIL_USE_SSL"]
    assert smtp["EMAIL_HOST_USER"] == "me@x.com"
    assert smtp["EMAIL_HOST_PASSWORD"] == "p/w"
    assert config.email_config(None)["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_redact_url_hides_only_the_password():
    url = "postgres://app:s3cret@db:5432/x"  # secret-scan: allow
    assert config.redact_url(url) == "postgres://app:***@db:5432/x"
    assert config.redact_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_site_url_parsing():
    assert config.site_url({}) == "http://127.0.0.1:8000"
    assert config.site_url({"SITE_URL": ""}) == "http://127.0.0.1:8000"
    with pytest.raises(ImproperlyConfigured, match="SITE_URL: required in production"):
        config.site_url({}, production=True)
    assert config.site_url({"SITE_URL": "http://127.0.0.1:8101/"}) == "http://127.0.0.1:8101"
    assert config.site_url({"SITE_URL": "https://pay.example-law.com/firm"}) == (
        "https://pay.example-law.com/firm"
    )
    for bad in ("ftp://x.com", "x.com", "https://x.com/?a=1", "http://x.com:port", "https://"):
        with pytest.raises(ImproperlyConfigured) as caught:
            config.site_url({"SITE_URL": bad})
        assert str(caught.value) == config.SITE_URL_INVALID.format(value=bad)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8101"),
        ({"SITE_URL": "https://demo.example-law.com"}, "https://demo.example-law.com"),
    ],
)
def test_make_run_links_on_the_port_it_serves(tmp_path, env, expected):
    """`make run PORT=8101` seeds and serves with SITE_URL on port 8101 unless SITE_URL is
    set. The Makefile runs in a scratch directory with a stand-in for Python that logs the
    SITE_URL each command sees."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "var").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    stamp = tmp_path / "installed"
    stamp.write_text("")
    os.utime(tmp_path / "pyproject.toml", (1, 1))  # the install stamp is up to date
    log = tmp_path / "calls.log"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$SITE_URL $*" >> "{log}"\n')
    fake.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        ["make", "-s", "run", "PORT=8101", f"PY={fake}", f"STAMP={stamp}"],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Links in emails and PDFs start with {expected}" in result.stdout
    calls = log.read_text().splitlines()
    for command in (
        "manage.py seed_demo",
        "manage.py demo_logins --url http://127.0.0.1:8101/",
        "manage.py runserver 127.0.0.1:8101",
    ):
        assert f"{expected} {command}" in calls, calls


def test_audit_keys_are_required_in_production_and_at_least_32_characters(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from caseledger import config

    with pytest.raises(ImproperlyConfigured, match="CASELEDGER_AUDIT_KEY: required in production"):
        config.audit_keys({}, True, tmp_path)
    with pytest.raises(ImproperlyConfigured, match="key 2 is shorter than 32"):
        config.audit_keys({"CASELEDGER_AUDIT_KEY": "a" * 32 + ",short"}, True, tmp_path)
    keys = config.audit_keys({"CASELEDGER_AUDIT_KEY": "n" * 40 + "," + "o" * 40}, True, tmp_path)
    assert list(keys.values()) == ["n" * 40, "o" * 40]
    assert list(keys) == [config.audit_key_id("n" * 40), config.audit_key_id("o" * 40)]


def test_replica_url_makes_a_postgres_replica_alias_that_tests_mirror(tmp_path):
    primary = config.database_config("postgres://app@primary:5432/firm", tmp_path)
    replica = config.replica_config(
        "postgres://reader:secret@replica:5432/firm", primary, tmp_path, pool={"max_size": 4}
    )
    assert (replica["HOST"], replica["USER"], replica["NAME"]) == ("replica", "reader", "firm")
    assert replica["OPTIONS"]["pool"] == {"max_size": 4}
    assert replica["TEST"] == {"MIRROR": "default"}
    mirror = config.mirror_replica_config(primary)
    assert mirror["HOST"] == "primary"
    assert mirror["TEST"] == {"MIRROR": "default"}


@pytest.mark.parametrize(
    ("primary_url", "replica_url"),
    [
        ("postgres://app@primary:5432/firm", "sqlite:////tmp/replica.db"),
        ("sqlite:////tmp/primary.db", "postgres://reader@replica:5432/firm"),
        ("postgres://app@primary:5432/firm", "mysql://reader:secret@replica/firm"),
        ("postgres://app@primary:5432/firm", "postgres://reader@replica:5432/"),
    ],
)
def test_a_replica_url_that_is_not_a_postgres_replica_is_refused(
    tmp_path, primary_url, replica_url
):
    primary = config.database_config(primary_url, tmp_path)
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_REPLICA_URL: must be a postgres://"):
        config.replica_config(replica_url, primary, tmp_path)
    with pytest.raises(ImproperlyConfigured) as refused:
        config.replica_config("mysql://reader:secret@replica/firm", primary, tmp_path)
    assert ":secret@" not in str(refused.value)
