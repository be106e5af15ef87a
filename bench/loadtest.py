"""`make loadtest`: the served stack under concurrent users, against its own baseline.

Starts `bin/serve` (production mode, gunicorn + whitenoise + consumer) on loopback with the demo
firm loaded, then for each user count runs locust headless twice, bounded in time: the baseline
(``/_baseline/``: the smallest view through the same middleware) and the mix (bench/
locustfile.py: staff pages, the client portal, API reads). Prints one JSON line per user count:
``users, rps, baseline_rps, ratio, p50_ms, p95_ms, p99_ms, errors`` (latencies and errors of the
mix), then stops the server. Loopback only; every run is bounded by ``--seconds``.

    python -m bench.loadtest [--users 8,32] [--seconds 15] [--port 8150]
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
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

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
    base: str, users: int, seconds: int, classes: list[str], out: Path, env: dict[str, str]
) -> dict[str, Any]:
    prefix = out / f"{'-'.join(classes)}-{users}"
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
            "--stop-timeout",
            "5",
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
        timeout=seconds + 60,
    )
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows["Aggregated"]
    return {
        "rps": float(total["Requests/s"] or 0),
        "p50_ms": float(total["50%"] or 0),
        "p95_ms": float(total["95%"] or 0),
        "p99_ms": float(total["99%"] or 0),
        "errors": int(total["Failure Count"]),
        "slowest": sorted(
            ((float(r["95%"] or 0), name) for name, r in rows.items() if name != "Aggregated"),
            reverse=True,
        )[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="8,32")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "loadtest"))
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.users.split(",") if n.strip()]
    if not 1 <= args.seconds <= 300 or not counts or max(counts) > 256:
        raise SystemExit("loadtest: --seconds 1..300 and at most 256 users")
    var_dir = Path(args.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    env = _env(var_dir, args.port)
    python = sys.executable
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run(
            [python, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
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
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for users in counts:
                baseline = _locust(base, users, args.seconds, ["BaselineUser"], out, locust_env)
                mix = _locust(
                    base, users, args.seconds, ["StaffUser", "ClientUser"], out, locust_env
                )
                line = {
                    "users": users,
                    "rps": round(mix["rps"], 1),
                    "baseline_rps": round(baseline["rps"], 1),
                    "ratio": round(mix["rps"] / baseline["rps"], 3) if baseline["rps"] else None,
                    "p50_ms": mix["p50_ms"],
                    "p95_ms": mix["p95_ms"],
                    "p99_ms": mix["p99_ms"],
                    "errors": mix["errors"] + baseline["errors"],
                    "slowest_p95": [{"route": n, "p95_ms": p} for p, n in mix["slowest"]],
                    "database": "postgresql" if env.get("DATABASE_URL") else "sqlite",
                }
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
