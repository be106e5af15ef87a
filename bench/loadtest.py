"""`make loadtest`: the served stack under concurrent users, against its own baseline.

Starts `bin/serve` (production mode, gunicorn + whitenoise + consumer) on loopback with the demo
firm loaded and, with ``--matters``, a generated firm next to it (bench/loadtest_prep.py: made
once per database, with a monthly retainer on ``--schedules`` of its matters). For each user
count it runs locust headless twice, bounded in time: the baseline (``/_baseline/``: the
smallest view through the same middleware) and the mix (bench/locustfile.py: staff pages, a
matter page, the client portal, API reads, and API writes: payments with idempotency keys and
stage advances), while ``manage.py run_billing`` drafts a month's retainers (the month-end run,
started with the mix). It samples CPU by process group (app: gunicorn and the consumer;
database; load generator; month-end) and, on PostgreSQL, the sessions waiting on a lock, so
the line says what saturates. After the last step ``manage.py verify`` checks the books.
Prints one JSON line per user count: ``users, rps, baseline_rps, ratio, p50_ms, p95_ms, p99_ms,
errors`` (latencies and errors of the mix) plus ``deadlocks``, ``lock_waits_max``, ``cpu_pct``
by group, ``month_end`` (seconds, invoices drafted), ``slowest_p95`` (the three slowest routes
with their statement counts) and ``verify``; then stops the server. Loopback only; every run
is bounded by ``--seconds``.

    python -m bench.loadtest [--users 8,32,128] [--seconds 30] [--port 8150]
        [--matters 50000 --invoices 1000000 --schedules 5000]
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from caseledger import serve_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(var_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CASELEDGER_ENV="production", CASELEDGER_VAR_DIR=str(var_dir), PORT=str(port))
    env["HOST"] = "127.0.0.1"
    for line in serve_env.exports(var_dir / "serve.env", "127.0.0.1", str(port), env):
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    return env


def _wait_ready(base: str, proc: subprocess.Popen[bytes], limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("loadtest: the server stopped while starting (see its log)")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("loadtest: the server did not become ready")


def _session(base: str, username: str) -> str:
    """Sign ``username`` in once (the demo password) and return the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/", timeout=60).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode(
        {"username": username, "password": "caseledger-demo", "csrfmiddlewaretoken": csrf}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/", data=body, headers={"Referer": f"{base}/login/"}
    )
    opener.open(request, timeout=120).read()
    session = next((c.value for c in jar if c.name == "sessionid"), "")
    if not session:
        raise SystemExit(f"loadtest: signing in as {username} failed")
    return session


def _locust(
    base: str,
    users: int,
    seconds: int,
    classes: list[str],
    out: Path,
    env: dict[str, str],
    tag: str = "",
) -> dict[str, Any]:
    prefix = out / f"{'-'.join(classes)}-{users}{tag}"
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            # At the end of the window the requests under way get up to the window's length
            # again to finish, so a saturated run's slowest requests are measured, not cut off
            # (its p99 reaches 10 s at 128 users).
            "--stop-timeout",
            str(max(seconds, 10)),
            "--host",
            base,
            "--csv",
            str(prefix),
            "--loglevel",
            "WARNING",
            *classes,
        ],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=2 * seconds + 60,
    )
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    with open(f"{prefix}_failures.csv", newline="") as f:
        failures = [
            {"route": row["Name"], "error": row["Error"][:200], "count": int(row["Occurrences"])}
            for row in csv.DictReader(f)
        ]
    total = rows["Aggregated"]
    return {
        "rps": float(total["Requests/s"] or 0),
        "p50_ms": float(total["50%"] or 0),
        "p95_ms": float(total["95%"] or 0),
        "p99_ms": float(total["99%"] or 0),
        "errors": int(total["Failure Count"]),
        "failures": failures[:5],
        "writes": sum(
            int(r["Request Count"]) - int(r["Failure Count"])
            for name, r in rows.items()
            if name.startswith("POST")
        ),
        "slowest": sorted(
            ((float(r["95%"] or 0), name) for name, r in rows.items() if name != "Aggregated"),
            reverse=True,
        )[:3],
    }


class Sampler:
    """CPU seconds by process group and the PostgreSQL sessions waiting on a lock, sampled once
    a second while a step runs (a process's CPU counts from when it was first seen)."""

    def __init__(self, groups: dict[str, Any], database_url: str) -> None:
        self.groups = groups  # name -> callable returning the group's processes
        self.database_url = database_url
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.lock_waits: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> None:
        for name, procs in self.groups.items():
            for proc in procs():
                try:
                    t = proc.cpu_times()
                except psutil.Error:
                    continue
                used = t.user + t.system
                self.first.setdefault(proc.pid, used)
                self.last[proc.pid] = (name, used)

    def _run(self) -> None:
        conn = None
        if self.database_url:
            import psycopg

            conn = psycopg.connect(self.database_url, autocommit=True)
        try:
            while not self.stop.is_set():
                self._cpu()
                if conn is not None:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    ).fetchone()
                    self.lock_waits.append(int(row[0]) if row else 0)
                self.stop.wait(1.0)
        finally:
            if conn is not None:
                conn.close()

    def __enter__(self) -> Sampler:
        self.started = time.monotonic()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._cpu()
        self.seconds = time.monotonic() - self.started

    def cpu_pct(self) -> dict[str, float]:
        """Average CPU per group over the step, in percent of one core (200 = both cores)."""
        out: dict[str, float] = {}
        for pid, (name, used) in self.last.items():
            out[name] = out.get(name, 0.0) + used - self.first.get(pid, used)
        return {k: round(100 * v / self.seconds, 1) for k, v in sorted(out.items())}


def _deadlocks(database_url: str) -> int | None:
    if not database_url:
        return None
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _locusts() -> list[psutil.Process]:
    return [
        p for p in psutil.process_iter(["cmdline"]) if "locust" in " ".join(p.info["cmdline"] or [])
    ]


def _postgres() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, check=False, capture_output=True, text=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="8,32,128")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--matters", type=int, default=0, help="generated firm's matters")
    parser.add_argument("--invoices", type=int, default=0, help="generated firm's invoices")
    parser.add_argument(
        "--schedules", type=int, default=-1, help="monthly retainers (default: matters / 10)"
    )
    parser.add_argument(
        "--think",
        default="1-3",
        help="LO-HI seconds each user waits between requests in the paced run ('' : no such run)",
    )
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "loadtest"))
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.users.split(",") if n.strip()]
    if not 1 <= args.seconds <= 300 or not counts or max(counts) > 256:
        raise SystemExit("loadtest: --seconds 1..300 and at most 256 users")
    var_dir = Path(args.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    env = _env(var_dir, args.port)
    database_url = env.get("DATABASE_URL", "")
    python = sys.executable
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run(
            [python, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    schedules = args.matters // 10 if args.schedules < 0 else args.schedules
    targets = var_dir / "targets.json"
    prep = _manage(
        env,
        "-m",
        "bench.loadtest_prep",
        "data",
        f"--matters={args.matters}",
        f"--invoices={args.invoices}",
        f"--schedules={schedules}",
        f"--steps={2 * len(counts)}",
        f"--out={targets}",
    )
    if prep.returncode:
        raise SystemExit(f"loadtest: preparing the data failed:\n{prep.stderr[-2000:]}")
    month_ends = json.loads(targets.read_text())["month_ends"]
    base = f"http://127.0.0.1:{args.port}"
    log = (var_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=dict(env, PY=python),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_ready(base, server)
        locust_env = dict(
            os.environ,
            LOADTEST_SESSION_PARTNER=_session(base, "partner"),
            LOADTEST_SESSION_CLIENT=_session(base, "client"),
            LOADTEST_TARGETS=str(targets),
        )
        lines = []
        steps = 2 * len(counts)  # each user count: the throughput run, then the paced run

        def run(
            users: int, part: int, classes: list[str], paced: bool = False
        ) -> tuple[dict[str, Any], dict[str, Any], dict[str, float], int | None]:
            """One locust run of ``classes`` while the month-end of ``part`` drafts its month
            (each run its own month and its own share of the writers' targets): the run's
            figures, the month-end's, CPU by group and the most sessions waiting on a lock."""
            month_end: dict[str, Any] = {}
            runner = None
            started = time.monotonic()
            if part < len(month_ends):
                runner = subprocess.Popen(
                    [python, "manage.py", "run_billing", "--date", month_ends[part]],
                    cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
            procs: dict[str, Any] = {
                "app": partial(_tree, server.pid),
                "database": _postgres,
                "load_generator": _locusts,
            }
            if runner is not None:
                procs["month_end"] = partial(_tree, runner.pid)
            share = dict(locust_env, LOADTEST_STEP=str(part), LOADTEST_STEPS=str(steps))
            if paced:
                share["LOADTEST_THINK"] = args.think
            with Sampler(procs, database_url) as sampler:
                mix = _locust(base, users, args.seconds, classes, out, share, tag="paced" * paced)
                if runner is not None:
                    stdout, _ = runner.communicate(timeout=3600)
                    month_end = {
                        "date": month_ends[part],
                        "seconds": round(time.monotonic() - started, 1),
                        "created": json.loads((stdout or "{}").strip().splitlines()[-1]).get(
                            "created"
                        ),
                        "rc": runner.returncode,
                    }
            return mix, month_end, sampler.cpu_pct(), max(sampler.lock_waits, default=None)

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for step, users in enumerate(counts):
                baseline = _locust(base, users, args.seconds, ["BaselineUser"], out, locust_env)
                deadlocks = _deadlocks(database_url)
                mix, month_end, cpu, lock_waits = run(
                    users, 2 * step, ["StaffUser", "ClientUser", "WriterUser"]
                )
                paced: dict[str, Any] | None = None
                if args.think:
                    ran = run(users, 2 * step + 1, ["StaffUser", "ClientUser", "WriterUser"], True)
                    paced = {
                        "think_s": args.think,
                        **{k: ran[0][k] for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "errors")},
                        "failures": ran[0]["failures"],
                        "month_end": ran[1],
                        "cpu_pct": ran[2],
                        "slowest_p95": [{"route": n, "p95_ms": p} for p, n in ran[0]["slowest"]],
                    }
                after = _deadlocks(database_url)
                line = {
                    "users": users,
                    "rps": round(mix["rps"], 1),
                    "baseline_rps": round(baseline["rps"], 1),
                    "ratio": round(mix["rps"] / baseline["rps"], 3) if baseline["rps"] else None,
                    "p50_ms": mix["p50_ms"],
                    "p95_ms": mix["p95_ms"],
                    "p99_ms": mix["p99_ms"],
                    "errors": mix["errors"] + baseline["errors"],
                    "failures": mix["failures"] + baseline["failures"],
                    "writes": mix["writes"],
                    "deadlocks": None if after is None else after - (deadlocks or 0),
                    "lock_waits_max": lock_waits,
                    "cpu_pct": cpu,
                    "month_end": month_end,
                    "paced": paced,
                    "slowest_p95": [{"route": n, "p95_ms": p} for p, n in mix["slowest"]],
                    "database": "postgresql" if database_url else "sqlite",
                    "matters": args.matters,
                    "invoices": args.invoices,
                }
                lines.append(line)
                print(f"loadtest: {users} users done", file=sys.stderr, flush=True)
        verify = _manage(env, "manage.py", "verify")
        slow = sorted({r["route"] for line in lines for r in line["slowest_p95"]})
        pages = [r for r in slow if r.startswith("/") and "[id]" not in r]
        counted = _manage(
            env, "-m", "bench.loadtest_prep", "queries", *(f"--path={p}" for p in pages)
        )
        queries = json.loads(counted.stdout or "{}") if counted.returncode == 0 else {}
        for line in lines:
            for r in line["slowest_p95"]:
                r["queries"] = queries.get(r["route"])
            line["verify"] = "clean" if verify.returncode == 0 else verify.stdout[-500:]
            print(json.dumps(line), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
