"""``import``: a generated QuickBooks Desktop customer list imported through
``imports.services.job_run`` (read, map, clean, every check, one savepoint, ``client_create``
with its audit event, and the import key per record, in batches) vs a baseline that
bulk-inserts the same clients with ``bulk_create``, in the same run. Quick: 2,000 clients;
full: 20,000. Latencies are per committed batch (``imports.services.BATCH_SIZE`` records).
The issue's full figure (50,000 matters and 100,000 invoices with lines besides) is not built.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from bench.registry import BenchContext, register, result

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _csv(n: int, offset: int = 0) -> bytes:
    rows = ["REFNUM,NAME,COMPANYNAME,FIRSTNAME,LASTNAME,BADDR1,PHONE1,EMAIL"]
    for i in range(offset, offset + n):
        rows.append(
            f"{i},Client {i},,First{i},Last{i},{i} Main St,555-{i % 10000:04d},c{i}@example.com"
        )
    return ("\n".join(rows) + "\n").encode()


@register("import")
def bench_import(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.clients.models import Client
    from caseledger.imports import services
    from caseledger.imports.services import jobs as import_jobs

    n = 20_000 if ctx.full else 2_000
    job = services.job_create(
        source="qbd-customers",
        filename="bench.csv",
        data=_csv(n),
        mapping=None,
        actor=None,
        now=NOW,
    )
    services.job_dry_run(job=job, actor=None, now=NOW)
    latencies: list[float] = []
    real = import_jobs._run_units

    def timed(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        real(*args, **kwargs)
        latencies.append(time.perf_counter() - start)

    # job_run looks _run_units up in its own module (services.jobs), so time it there.
    import_jobs._run_units = timed  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        job = services.job_run(job=job, actor=None, now=NOW)
        seconds = time.perf_counter() - start
    finally:
        import_jobs._run_units = real  # type: ignore[assignment]
    if job.created != n:
        raise RuntimeError(f"import created {job.created} of {n} clients")

    start = time.perf_counter()
    Client.objects.bulk_create(
        [
            Client(
                name=f"Bulk {i}",
                kind="PERSON",
                client_type="PRIVATE",
                email=f"b{i}@example.com",
                phone=f"555-{i % 10000:04d}",
                address_line1=f"{i} Main St",
                country="US",
                created_at=NOW,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    baseline_seconds = time.perf_counter() - start
    return result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="bulk_create of the same clients",
        baseline_n=n,
        baseline_seconds=baseline_seconds,
        latencies_s=latencies,
    )
