"""``export``: the full firm export (``caseledger.imports.export.export_chunks``, every table as
CSV and JSON Lines, files, audit log, manifest, streamed into a zip) of a synthetic firm, against a
baseline of reading the same ledger postings with ``.iterator()`` and nothing else. Full:
1,000,000 postings' worth of invoices (goal: under 60 s, memory under 500 MB); quick: 20,000
invoices. ``n`` is the number of ledger postings exported; the peak resident memory of the
process is printed on stderr. The manifest must check out, or the bench fails."""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

from bench.generate import generate_firm
from bench.receivables import generate_receivables
from bench.registry import BenchContext, register, result


class BenchFailure(RuntimeError):
    pass


@register("export")
def bench_export(ctx: BenchContext) -> dict[str, Any]:
    import tempfile

    from caseledger.core import clock
    from caseledger.imports.export import export_chunks, manifest_check
    from caseledger.ledger.models import Posting

    invoices = 500_000 if ctx.full else 20_000
    firm = generate_firm(matters=max(100, invoices // 50))
    generate_receivables(
        invoices=invoices, matter_ids=firm.matter_ids, matter_client=firm.matter_client
    )
    postings = Posting.objects.count()
    t0 = time.perf_counter()
    for _ in Posting.objects.values_list().iterator(chunk_size=2000):
        pass
    base_seconds = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile(suffix=".zip") as fh:
        t0 = time.perf_counter()
        for chunk in export_chunks(now=clock.now()):
            fh.write(chunk)
        seconds = time.perf_counter() - t0
        fh.flush()
        problems = manifest_check(fh.name)
        size = fh.tell()
    if problems:
        raise BenchFailure(f"manifest: {problems[:3]}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stderr.write(
        f"export: {postings} postings, {size / 1e6:.1f} MB zip in {seconds:.1f} s, "
        f"peak RSS {peak_mb:.0f} MB\n"
    )
    return result(
        ctx=ctx,
        n=postings,
        seconds=seconds,
        baseline="iterate the postings only",
        baseline_n=postings,
        baseline_seconds=base_seconds,
        latencies_s=[seconds],
    )
