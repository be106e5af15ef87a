"""``month_end``: the recurring billing run over N matters with a monthly schedule (drafts with
their lines and the once-per-period rows, idempotency checks, payer rules, one audit event) vs
``bulk_create`` of the same invoice rows in the same database. Goal: ratio >= 0.3 on
PostgreSQL. A second run for the same date must create 0 invoices (printed as
``second_run_created``). Quick: 1,000 matters; ``--full``: 10,000."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from bench.generate import generate_firm, monthly_retainers
from bench.registry import BenchContext, register, result

RUN_DATE = date(2026, 3, 31)
NOW = datetime(2026, 3, 31, 23, tzinfo=UTC)


class BenchFailure(RuntimeError):
    pass


@register("month_end")
def bench_month_end(ctx: BenchContext) -> dict[str, Any]:
    from django.db import transaction

    from caseledger.billing import services
    from caseledger.billing.choices import InvoiceStatus
    from caseledger.billing.models import Invoice

    n = 10_000 if ctx.full else 1_000
    firm = generate_firm(matters=n)
    monthly_retainers(
        firm.matter_ids,
        code="RETAINER",
        name="Compliance retainer",
        template_name="Monthly retainer",
        lines=[
            {"description": "Immigration compliance retainer", "amount": None},
            {"description": "Public access file maintenance", "amount": "150.00"},
        ],
        start=date(2026, 1, 1),
        now=NOW,
    )

    start = time.perf_counter()
    first = services.billing_run(run_date=RUN_DATE, now=NOW)
    seconds = time.perf_counter() - start
    if first.created != n:
        raise BenchFailure(f"first run created {first.created}, expected {n}")
    second = services.billing_run(run_date=RUN_DATE, now=NOW)
    if second.created != 0:
        raise BenchFailure(f"second run created {second.created}")

    # Baseline: the same invoice rows, one bulk_create, rolled back afterwards.
    made = list(
        Invoice.objects.filter(status=InvoiceStatus.IN_REVIEW).values(
            "client_id",
            "matter_id",
            "currency",
            "bill_to",
            "responsible_partner_id",
            "template_id",
            "subtotal_cents",
            "tax_cents",
            "total_cents",
            "terms",
            "notes",
        )
    )
    rows = [
        Invoice(status=InvoiceStatus.IN_REVIEW, created_at=NOW, triggered_at=NOW, **row)
        for row in made
    ]
    with transaction.atomic():
        t0 = time.perf_counter()
        Invoice.objects.bulk_create(rows, batch_size=2000)
        baseline_seconds = time.perf_counter() - t0
        transaction.set_rollback(True)

    out = result(
        ctx=ctx,
        n=first.created,
        seconds=seconds,
        baseline="Invoice.objects.bulk_create of the same rows",
        baseline_n=len(rows),
        baseline_seconds=baseline_seconds,
        latencies_s=[seconds],
    )
    out["second_run_created"] = second.created
    return out
