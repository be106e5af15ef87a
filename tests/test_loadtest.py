"""`make loadtest` end to end at a tiny size: bench/loadtest.py with the demo firm and a
generated firm of 40 matters and 200 invoices, six and twelve users (one in six a writer) for
three seconds a run: the throughput run (no waiting) and the paced run (1-3 s between a user's
requests), each with its own month-end. Every line has its figures, the writers' payments and
advances and the month-end run succeed (no error, no deadlock) and `verify` is clean
afterwards. It runs in a database of its own, created empty and dropped after (the load test
migrates it, which seeds the case types, then seeds the demo firm): the test database loses
its seeded rows when a transactional test flushes it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def empty_database(require_postgres: None) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test database; its URL. Dropped after."""
    import psycopg

    s = connection.settings_dict
    host, port, user = s["HOST"] or "127.0.0.1", s["PORT"] or 5432, s["USER"]
    name = f"{s['NAME']}_loadtest"
    admin = {"host": host, "port": port, "user": user, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_loadtest_runs_the_mix_with_writes_and_month_end_and_verifies(empty_database, tmp_path):
    url = empty_database
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CASELEDGER", "DJANGO"))
    }
    env.update(DATABASE_URL=url, WEB_CONCURRENCY="2", CASELEDGER_TESTING="0")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadtest",
            "--users=6,12",
            "--seconds=3",
            "--matters=40",
            "--invoices=200",
            f"--port={_free_port()}",
            f"--var-dir={tmp_path}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(ln) for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert [line["users"] for line in lines] == [6, 12]
    for line in lines:
        assert line["errors"] == 0, line["failures"]
        assert line["rps"] > 0
        assert line["baseline_rps"] > 0
        assert line["p50_ms"] <= line["p95_ms"] <= line["p99_ms"]
        assert line["writes"] > 0  # payments and stage advances through the API
        assert line["deadlocks"] == 0
        assert line["verify"] == "clean"
        assert line["month_end"]["rc"] == 0
        assert line["month_end"]["created"] == 4  # a retainer on a tenth of the 40 matters
        assert {"app", "database", "load_generator"} <= set(line["cpu_pct"])
        # The paced run: the same users waiting 1-3 s between requests, its own month-end.
        paced = line["paced"]
        assert paced["think_s"] == "1-3"
        assert paced["errors"] == 0, paced["failures"]
        assert paced["rps"] > 0
        assert paced["p50_ms"] <= paced["p95_ms"] <= paced["p99_ms"]
        assert paced["month_end"]["rc"] == 0
        assert paced["month_end"]["created"] == 4
        assert line["month_end"]["date"] < paced["month_end"]["date"]
    # Each run bills a month not yet billed.
    assert lines[0]["paced"]["month_end"]["date"] < lines[1]["month_end"]["date"]
    targets = json.loads((tmp_path / "targets.json").read_text())
    assert targets["pay"]
    assert targets["advance"]
