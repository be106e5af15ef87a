"""`make serve` (bin/serve): the production stack answers on loopback, and its generated
settings are kept across restarts (issue 20)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from caseledger import gunicorn_conf, serve_env

ROOT = Path(__file__).resolve().parent.parent


def test_serve_env_generates_once_keeps_and_lets_the_environment_win(tmp_path):
    path = tmp_path / "serve.env"
    first = serve_env.exports(path, "127.0.0.1", "8000", {})
    names = {line.split("=", 1)[0].removeprefix("export ") for line in first}
    assert {
        "CASELEDGER_SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "CASELEDGER_AUDIT_KEY",
        "CASELEDGER_METRICS_TOKEN",
        "CASELEDGER_BACKUP_KEY",
        "SITE_URL",
        "ALLOWED_HOSTS",
    } <= names
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # A restart gets the same keys (field encryption and audit keys must never change).
    assert serve_env.exports(path, "127.0.0.1", "8000", {}) == first
    # What the environment sets is not exported from the file.
    kept = serve_env.exports(path, "127.0.0.1", "8000", {"CASELEDGER_SECRET_KEY": "from-env"})
    assert not any(line.startswith("export CASELEDGER_SECRET_KEY=") for line in kept)
    # Behind a proxy on a public name, HTTPS redirect and secure cookies stay on.
    public = serve_env.defaults("billing.example-law.com", "8000")
    assert "SECURE_SSL_REDIRECT" not in public
    assert "SECURE_COOKIES" not in public


def test_gunicorn_workers_come_from_the_cores():
    assert gunicorn_conf.default_workers(2) == 5
    assert gunicorn_conf.default_workers(8) == 17
    assert gunicorn_conf.worker_class == "gthread"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_make_serve_answers_health_ready_pages_static_and_metrics(require_postgres, tmp_path):
    """bin/serve against the (already migrated) test database: gunicorn with whitenoise, the
    consumer, production settings, every probe."""
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CASELEDGER", "DJANGO"))
    }
    env.update(
        DATABASE_URL=url,
        CASELEDGER_VAR_DIR=str(tmp_path),
        PORT=str(port),
        WEB_CONCURRENCY="2",
        CASELEDGER_TESTING="0",
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body, _ = _get(f"{base}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)  # waiting for a child process to listen, not for time to pass
        assert status == 200, (tmp_path / "serve.log").read_text()[-3000:]
        assert json.loads(body)["checks"] == {"database": "ok", "migrations": "ok", "queue": "ok"}
        assert _get(f"{base}/healthz")[0] == 200
        status, body, headers = _get(f"{base}/login/")
        assert status == 200
        assert len(headers["X-Request-ID"]) == 32
        assert b"<form" in body
        # Whitenoise serves the collected, hashed static files (production storage).
        css = next((tmp_path / "static" / "caseledger").glob("app.*.css"))
        status, _, headers = _get(f"{base}/static/caseledger/{css.name}")
        assert status == 200
        assert "max-age=315360000" in headers["Cache-Control"]
        token = serve_env.read(tmp_path / "serve.env")["CASELEDGER_METRICS_TOKEN"]
        assert _get(f"{base}/metrics")[0] == 401
        status, body, _ = _get(f"{base}/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert b'caseledger_requests_total{method="GET",route="/login/",status="2xx"}' in body
        assert b"caseledger_outbox_backlog" in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    log_lines = (tmp_path / "serve.log").read_text().splitlines()
    access = [json.loads(ln) for ln in log_lines if '"caseledger.access"' in ln]
    assert any(a["route"] == "/login/" and a["status"] == 200 for a in access)


def test_workers_are_recycled_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gthread worker replaced after max_requests resets its keep-alive connections (gunicorn
    issue #3038): off unless GUNICORN_MAX_REQUESTS sets it."""
    import importlib

    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    assert importlib.reload(gunicorn_conf).max_requests == 0
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "5000")
    conf = importlib.reload(gunicorn_conf)
    assert (conf.max_requests, conf.max_requests_jitter) == (5000, 500)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS")
    importlib.reload(gunicorn_conf)


def test_idle_keep_alive_connections_outlive_a_pause_between_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gunicorn closes an idle keep-alive connection after 2 s by default, which raced the load
    test's paced users (1-3 s between requests) into connection resets: 75 s unless
    GUNICORN_KEEPALIVE says otherwise (above a reverse proxy's idle timeout)."""
    import importlib

    monkeypatch.delenv("GUNICORN_KEEPALIVE", raising=False)
    assert importlib.reload(gunicorn_conf).keepalive == 75
    monkeypatch.setenv("GUNICORN_KEEPALIVE", "5")
    assert importlib.reload(gunicorn_conf).keepalive == 5
    monkeypatch.delenv("GUNICORN_KEEPALIVE")
    importlib.reload(gunicorn_conf)
