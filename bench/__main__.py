"""``python -m bench NAME [--full]``: run one benchmark in a throwaway database and print ONE
JSON line {"bench","db","n","rate","baseline","baseline_rate","ratio","p50_ms","p99_ms"}.
``python -m bench all [--full]``: every registered bench, each in its own process."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

from bench import db
from bench.registry import BENCH_MODULES, BENCHES, BenchContext


def _load() -> None:
    for module in BENCH_MODULES:
        importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    _load()
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=[*sorted(BENCHES), "all"])
    parser.add_argument("--full", action="store_true", help="full size (default: quick)")
    args = parser.parse_args(argv)
    if args.name == "all":
        failed = 0
        for name in sorted(BENCHES):
            cmd = [sys.executable, "-m", "bench", name, *(["--full"] if args.full else [])]
            failed += subprocess.run(cmd, check=False).returncode != 0
        return 1 if failed else 0
    throwaway = db.prepare(args.name)
    try:
        out = BENCHES[args.name](
            BenchContext(name=args.name, full=args.full, vendor=throwaway.vendor)
        )
    finally:
        db.cleanup()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
