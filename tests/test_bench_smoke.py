"""Every benchmark runs at its quick size and prints its one JSON line: ``python -m bench NAME``
in a subprocess, as ``make bench`` runs it, on a throwaway SQLite database (the SQLite pass
only; the PostgreSQL figures are taken with ``make bench`` / ``bench-full``). A bench whose
setup breaks (a service that changed its rules, say) fails here, not at measuring time."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench.registry import BENCH_MODULES, BENCHES, RESULT_KEYS

ROOT = Path(__file__).resolve().parent.parent

for _module in BENCH_MODULES:
    importlib.import_module(_module)


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_bench_runs_and_prints_its_json_line(name: str) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("benchmarks are smoke-tested in the SQLite pass")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, done.stdout
    out = json.loads(lines[0])
    assert set(RESULT_KEYS) <= set(out), out
    assert (out["bench"], out["db"]) == (name, "sqlite")
    assert min(out["rate"], out["baseline_rate"], out["ratio"]) > 0, out
