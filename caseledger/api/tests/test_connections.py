"""Database connections stay bounded under concurrent requests.

``make run`` on PostgreSQL once piled up 84 idle connections (``CONN_MAX_AGE=60`` and the
development server's thread per connection) until PostgreSQL refused new ones. Now connections
live for one request in development, and production web processes borrow from a bounded psycopg
pool per process (``config.db_pool``). The PostgreSQL test serves the API with gunicorn in
production mode (2 workers x 16 threads, a budget of 8 connections) and sends 200 requests from
32 threads, sampling ``pg_stat_activity`` for the test database meanwhile."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from caseledger import config

REQUESTS = 200
CLIENT_THREADS = 32
WORKERS = 2
BUDGET = 8
LIMIT = 20


def test_development_and_tests_close_connections_after_each_request(tmp_path):
    dev = config.database_config(
        "postgres://u@h:5432/cl", tmp_path, pool=config.db_pool({}, production=False)
    )
    assert dev["CONN_MAX_AGE"] == 0
    assert "pool" not in dev.get("OPTIONS", {})
    from django.conf import settings

    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


def test_production_pool_is_sized_from_the_workers(tmp_path):
    pool = config.db_pool({"WEB_CONCURRENCY": "4", "CASELEDGER_DB_CONNECTIONS": "20"}, True)
    assert pool == {"min_size": 1, "max_size": 5, "timeout": 10}
    assert config.db_pool({"CASELEDGER_WORKERS": "16"}, True)["max_size"] == 2  # at least 2
    assert config.db_pool({"CASELEDGER_DB_POOL": "0"}, True) is None
    prod = config.database_config("postgres://u@h:5432/cl", tmp_path, pool=pool)
    assert prod["CONN_MAX_AGE"] == 0
    assert prod["OPTIONS"]["pool"]["max_size"] == 5
    lite = config.database_config(None, tmp_path, pool=pool)
    assert "pool" not in lite["OPTIONS"]
    with pytest.raises(config.ImproperlyConfigured, match="WEB_CONCURRENCY: must be a whole"):
        config.db_pool({"WEB_CONCURRENCY": "many"}, True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def production_server(transactional_db: Any, users: dict[str, Any]) -> Iterator[tuple[str, str]]:
    from cryptography.fernet import Fernet
    from django.db import connection

    from caseledger.core import clock
    from caseledger.core.services import api_token_create

    _, token = api_token_create(user=users["PARTNER"], now=clock.now(), name="load")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CASELEDGER_ENV": "production",
        "CASELEDGER_TESTING": "0",
        "CASELEDGER_SECRET_KEY": "load-test-" + "x" * 50,
        "CASELEDGER_AUDIT_KEY": "load-test-audit-" + "k" * 40,
        # The API under load, not the payment provider: the sandbox, allowed as a demo.
        "CASELEDGER_DEMO_SANDBOX_PAYMENTS": "true",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://caseledger.example",
        "SECURE_SSL_REDIRECT": "0",
        "WEB_CONCURRENCY": str(WORKERS),
        "CASELEDGER_DB_CONNECTIONS": str(BUDGET),
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "caseledger.wsgi", "--workers", str(WORKERS), "--threads", "16"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base}/api/ready", timeout=30)  # the JSON 404, no database
                break
            except requests.RequestException:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start in 120 s"
                threading.Event().wait(0.2)  # the server process is starting
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _connections(dsn: dict[str, Any], name: str) -> int:
    import psycopg

    with psycopg.connect(
        host=dsn["HOST"] or "127.0.0.1",
        port=dsn["PORT"] or 5432,
        user=dsn["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
        return int(row[0]) if row else 0


@pytest.mark.postgres
def test_200_concurrent_requests_keep_postgresql_connections_bounded(production_server):
    from django.db import connection

    base, token = production_server
    dsn = connection.settings_dict
    name = dsn["NAME"]
    connection.close()  # the test's own connection is not the server's
    headers = {"Authorization": f"Bearer {token}"}
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _connections(dsn, name))

    sampler = threading.Thread(target=sample)
    sampler.start()
    paths = ["/api/v1/me", "/api/v1/clients", "/api/v1/matters", "/api/v1/billing/invoices"]
    try:
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            statuses = list(
                pool.map(
                    lambda i: (
                        requests.get(
                            base + paths[i % len(paths)], headers=headers, timeout=60
                        ).status_code
                    ),
                    range(REQUESTS),
                )
            )
    finally:
        done.set()
        sampler.join()
    after = _connections(dsn, name)
    print(f'{{"requests": {REQUESTS}, "peak_connections": {peak}, "after": {after}}}')  # noqa: T201
    assert statuses == [200] * REQUESTS
    assert 0 < peak <= min(LIMIT, BUDGET)
    assert after <= BUDGET
