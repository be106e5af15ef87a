"""``import``: a firm's migration from Clio imported through the product's import path, against a
baseline that bulk-inserts the same rows, in the same run.

Three generated files in the shipped Clio layouts (``imports.sources``): ``clio-contacts``
(clients), ``clio-matters`` (matters, each naming its client by first and last name) and
``clio-bills`` (open invoices, one row per line, each naming its client and its matter). Each goes
through the path the wizard and ``manage.py import_data`` take: ``job_create`` (read, map),
``job_dry_run`` (clean, every check, every write in a transaction rolled back), then
``job_run``, which commits batch by batch (``imports.services.BATCH_SIZE`` records per batch, each
all or nothing): the owning app's checks per record (``client_build``, ``matter_import_build``,
the legacy invoice checks), the set-based INSERTs, one audit event per record (chained:
``audit.record_many``) and one import key (``ImportRecord``) per record.

Timed: ``job_run`` of the three files (the commit); the dry run before it is reported apart
(``dry_run_s``), not in ``rate``. The baseline bulk-inserts (``bulk_create``) the same clients,
matters, legacy invoices and invoice lines, with the same column values, first, in one
transaction that is then rolled back (the numbers are unique, so the import could not follow
it otherwise); it writes no audit event and no import key. ``n`` and ``baseline_n`` count
records (clients + matters + invoices; an invoice's lines are part of it). Latencies are per
committed batch. Quick: 2,000 clients, 5,000 matters, 10,000 invoices; full: 20,000, 50,000,
100,000 (the issue's figure; goal ``ratio`` >= 0.2 on PostgreSQL). An invoice has 1 to 3 lines
(2 on average).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.registry import BenchContext, register, result

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OPENED = date(2023, 1, 2)
ISSUED = date(2026, 1, 5)
CATEGORIES = ("fees", "government_fees", "expenses")


@dataclass(frozen=True)
class Sizes:
    clients: int
    matters: int
    invoices: int


def _first(i: int) -> str:
    return f"Given{i}"


def _last(i: int) -> str:
    return f"Family{i}"


def _client_of_matter(j: int, sizes: Sizes) -> int:
    return j % sizes.clients


def _matter_of_invoice(k: int, sizes: Sizes) -> int:
    return k % sizes.matters


def _opened(j: int) -> date:
    return OPENED + timedelta(days=j % 900)


def _issued(k: int) -> date:
    return ISSUED + timedelta(days=k % 300)


def _lines(k: int) -> list[tuple[str, str, int]]:
    """(category, description, cents) of invoice ``k``'s lines."""
    return [
        (CATEGORIES[p], f"Line {p + 1} of bill {k}", 10_000 + (k * 37 + p * 1_013) % 90_000)
        for p in range(1 + k % 3)
    ]


def _balance(k: int, total: int) -> int:
    """Still open: every invoice has a balance, a third of them part-paid."""
    return total if k % 3 else total // 2


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    # No commas or quotes in the generated values: a plain join is valid CSV.
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def contacts_csv(sizes: Sizes) -> bytes:
    header = [
        "first_name",
        "last_name",
        "company",
        "email_address",
        "primary_phone",
        "business_street",
        "business_city",
        "business_state",
        "business_postal_code",
    ]
    rows = [
        [
            _first(i),
            _last(i),
            "",
            f"client{i}@example.com",
            f"555-{i % 10000:04d}",
            f"{i} Main St",
            "Springfield",
            "IL",
            f"{62000 + i % 1000}",
        ]
        for i in range(sizes.clients)
    ]
    return _csv(header, rows)


def matters_csv(sizes: Sizes) -> bytes:
    header = [
        "custom_number",
        "description",
        "status",
        "open_date",
        "close_date",
        "client_first_name",
        "client_last_name",
        "client_company_name",
    ]
    rows: list[list[str]] = []
    for j in range(sizes.matters):
        i = _client_of_matter(j, sizes)
        rows.append(
            [
                f"M{j}",
                f"Petition {j}",
                "Open",
                _opened(j).strftime("%m/%d/%Y"),
                "",
                _first(i),
                _last(i),
                "",
            ]
        )
    return _csv(header, rows)


def bills_csv(sizes: Sizes) -> bytes:
    header = [
        "number",
        "client",
        "matter",
        "issued_at",
        "due_at",
        "total",
        "balance",
        "line_type",
        "line_description",
        "line_total",
    ]
    rows: list[list[str]] = []
    for k in range(sizes.invoices):
        j = _matter_of_invoice(k, sizes)
        i = _client_of_matter(j, sizes)
        lines = _lines(k)
        total = sum(c for _, _, c in lines)
        issued = _issued(k)
        head = [
            f"B{k}",
            f"{_first(i)} {_last(i)}",
            f"M{j}",
            issued.isoformat(),
            (issued + timedelta(days=30)).isoformat(),
            f"{total / 100:.2f}",
            f"{_balance(k, total) / 100:.2f}",
        ]
        rows.extend([*head, cat, desc, f"{cents / 100:.2f}"] for cat, desc, cents in lines)
    return _csv(header, rows)


QUICK = Sizes(clients=2_000, matters=5_000, invoices=10_000)
FULL = Sizes(clients=20_000, matters=50_000, invoices=100_000)


class _Rollback(Exception):
    pass


def baseline_insert(sizes: Sizes) -> tuple[dict[str, int], float]:
    """Bulk-insert the rows the import writes into the clients, matters, legacy invoices and
    invoice lines tables, with the same values; rolled back once timed. Returns the row counts
    and the seconds the inserts took."""
    from django.db import transaction

    from caseledger.clients.models import Client
    from caseledger.imports.models import LEGACY_PREFIX, LegacyInvoice, LegacyInvoiceLine
    from caseledger.matters.models import CaseType, Matter

    case_type = CaseType.objects.get(code="consultation")
    stage = case_type.stages.order_by("position", "id").first()
    counts: dict[str, int] = {}
    seconds = 0.0
    try:
        with transaction.atomic():
            start = time.perf_counter()
            clients = []
            for i in range(sizes.clients):
                client = Client(
                    name=f"{_first(i)} {_last(i)}",
                    kind="PERSON",
                    client_type="PRIVATE",
                    email=f"client{i}@example.com",
                    phone=f"555-{i % 10000:04d}",
                    address_line1=f"{i} Main St",
                    city="Springfield",
                    region="IL",
                    postal_code=f"{62000 + i % 1000}",
                    country="US",
                    created_at=NOW,
                )
                client.refresh_lookup_hashes()
                clients.append(client)
            clients = Client.objects.bulk_create(clients, batch_size=1000)
            matters = Matter.objects.bulk_create(
                [
                    Matter(
                        number=f"{LEGACY_PREFIX}M{j}",
                        title=f"Petition {j}",
                        client=clients[_client_of_matter(j, sizes)],
                        case_type=case_type,
                        current_stage=stage,
                        status="OPEN",
                        opened_date=_opened(j),
                        closed_date=None,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    for j in range(sizes.matters)
                ],
                batch_size=1000,
            )
            invoices = []
            for k in range(sizes.invoices):
                matter = matters[_matter_of_invoice(k, sizes)]
                total = sum(c for _, _, c in _lines(k))
                invoices.append(
                    LegacyInvoice(
                        number=f"B{k}",
                        client_id=matter.client_id,
                        matter=matter,
                        issue_date=_issued(k),
                        due_date=_issued(k) + timedelta(days=30),
                        total_cents=total,
                        balance_cents=_balance(k, total),
                        created_at=NOW,
                    )
                )
            invoices = LegacyInvoice.objects.bulk_create(invoices, batch_size=1000)
            lines = LegacyInvoiceLine.objects.bulk_create(
                [
                    LegacyInvoiceLine(
                        invoice=invoice, position=p, category=cat, description=desc, amount_cents=c
                    )
                    for k, invoice in enumerate(invoices)
                    for p, (cat, desc, c) in enumerate(_lines(k))
                ],
                batch_size=1000,
            )
            seconds = time.perf_counter() - start
            counts = {
                "clients": len(clients),
                "matters": len(matters),
                "invoices": len(invoices),
                "lines": len(lines),
            }
            raise _Rollback
    except _Rollback:
        pass
    return counts, seconds


def _vacuum() -> None:
    """Clear the rolled-back baseline's dead rows so the import starts on clean tables."""
    from django.db import connection

    from caseledger.clients.models import Client
    from caseledger.imports.models import LegacyInvoice, LegacyInvoiceLine
    from caseledger.matters.models import Matter

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for model in (Client, Matter, LegacyInvoice, LegacyInvoiceLine):
            cur.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')


@register("import")
def bench_import(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.clients.models import Client
    from caseledger.imports import services
    from caseledger.imports.choices import JobStatus
    from caseledger.imports.models import LegacyInvoice, LegacyInvoiceLine
    from caseledger.imports.services import jobs as import_jobs
    from caseledger.matters.models import Matter

    sizes = FULL if ctx.full else QUICK
    baseline_counts, baseline_seconds = baseline_insert(sizes)
    _vacuum()

    latencies: list[float] = []
    real = import_jobs._run_units

    def timed(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        real(*args, **kwargs)
        latencies.append(time.perf_counter() - start)

    files = (
        ("clio-contacts", "contacts.csv", contacts_csv(sizes), sizes.clients),
        ("clio-matters", "matters.csv", matters_csv(sizes), sizes.matters),
        ("clio-bills", "bills.csv", bills_csv(sizes), sizes.invoices),
    )
    seconds = dry_seconds = 0.0
    per_kind: dict[str, float] = {}
    for source, filename, data, expected in files:
        start = time.perf_counter()
        job = services.job_create(
            source=source, filename=filename, data=data, mapping=None, actor=None, now=NOW
        )
        report = services.job_dry_run(job=job, actor=None, now=NOW)
        dry_seconds += time.perf_counter() - start
        if report.problems:
            raise RuntimeError(f"{source}: dry run found {report.as_dict()['errors'][:3]}")
        # job_run looks _run_units up in its own module (services.jobs), so time it there.
        import_jobs._run_units = timed  # type: ignore[assignment]
        try:
            start = time.perf_counter()
            job = services.job_run(job=job, actor=None, now=NOW)
            took = time.perf_counter() - start
        finally:
            import_jobs._run_units = real  # type: ignore[assignment]
        if job.status != JobStatus.DONE or job.created != expected:
            raise RuntimeError(f"{source}: created {job.created} of {expected} ({job.failure})")
        seconds += took
        per_kind[source] = round(took, 2)

    counts = {
        "clients": Client.objects.count(),
        "matters": Matter.objects.count(),
        "invoices": LegacyInvoice.objects.count(),
        "lines": LegacyInvoiceLine.objects.count(),
    }
    if counts != baseline_counts:
        raise RuntimeError(f"imported {counts}, baseline inserted {baseline_counts}")
    n = sizes.clients + sizes.matters + sizes.invoices
    out = result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="bulk_create of the same clients, matters, invoices and lines",
        baseline_n=n,
        baseline_seconds=baseline_seconds,
        latencies_s=latencies,
    )
    return {
        **out,
        **counts,
        "import_s": round(seconds, 2),
        "baseline_s": round(baseline_seconds, 2),
        "dry_run_s": round(dry_seconds, 2),
        "commit_s": per_kind,
    }
