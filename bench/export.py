"""``export``: the full firm export (``manage.py export_firm``: every table as CSV and JSON Lines,
files, audit log, manifest, streamed into a zip) of a synthetic firm, against a baseline of
reading the same ledger postings with ``.iterator()`` and nothing else. The export runs as the
command, in a child process, so its time is the command's wall time (Django's start included)
and its memory the child's peak resident set (``peak_rss_mb``, its ``VmHWM`` sampled every
0.2 s), not the generator's. Full:
350,000 invoices and their payments, filled up to 1,000,000 postings with operating entries
(goal: under 60 s, memory under 500 MB); quick: 20,000 invoices. ``n`` is the number of ledger
postings exported. The manifest must check out, or the bench fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.generate import generate_firm
from bench.receivables import generate_receivables
from bench.registry import BenchContext, register, result


class BenchFailure(RuntimeError):
    pass


def _high_water_kb(pid: int) -> int:
    """The process's peak resident set so far (``VmHWM``, KiB), 0 once it is gone. Not
    ``getrusage``: a child's ``ru_maxrss`` counts the parent's pages it had between fork and
    exec, i.e. the generator's memory."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@register("export")
def bench_export(ctx: BenchContext) -> dict[str, Any]:
    import tempfile

    from django.db import connections

    from caseledger.imports.export import manifest_check
    from caseledger.ledger.models import Posting

    invoices = 350_000 if ctx.full else 20_000
    firm = generate_firm(matters=max(100, invoices // 50))
    generate_receivables(
        invoices=invoices,
        matter_ids=firm.matter_ids,
        matter_client=firm.matter_client,
        postings_at_least=1_000_000 if ctx.full else 0,
    )
    postings = Posting.objects.count()
    t0 = time.perf_counter()
    for _ in Posting.objects.values_list().iterator(chunk_size=2000):
        pass
    base_seconds = time.perf_counter() - t0
    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "firm.zip"
        log = Path(tmp) / "stderr.log"
        t0 = time.perf_counter()
        with log.open("w") as err:
            child = subprocess.Popen(
                [sys.executable, "manage.py", "export_firm", str(target)],
                cwd=Path(__file__).resolve().parent.parent,
                env=dict(os.environ),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        peak_kb = 0
        while child.poll() is None:
            peak_kb = max(peak_kb, _high_water_kb(child.pid))
            time.sleep(0.2)  # sampling the child's memory high-water mark while it runs
        seconds = time.perf_counter() - t0
        if child.returncode:
            raise BenchFailure(f"export_firm failed: {log.read_text()[-2000:]}")
        peak_mb = peak_kb / 1024
        problems = manifest_check(str(target))
        size = target.stat().st_size
    if problems:
        raise BenchFailure(f"manifest: {problems[:3]}")
    out = result(
        ctx=ctx,
        n=postings,
        seconds=seconds,
        baseline="iterate the postings only",
        baseline_n=postings,
        baseline_seconds=base_seconds,
        latencies_s=[seconds],
    )
    out["postings"] = postings
    out["export_s"] = round(seconds, 1)
    out["peak_rss_mb"] = round(peak_mb)
    out["zip_mb"] = round(size / 1e6, 1)
    return out
