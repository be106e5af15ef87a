"""``collections``: the daily collections run over open invoices (full: 100,000; quick: 5,000)
vs a bulk_create of the same Reminder rows (the floor for writing them), then a second run that
must schedule nothing. Emails go to Django's in-memory backend."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.generate import generate_firm
from bench.receivables import AS_OF, NOW, generate_receivables
from bench.registry import BenchContext, register, result


class BenchFailure(RuntimeError):
    pass


@register("collections")
def bench_collections(ctx: BenchContext) -> dict[str, Any]:
    from django.conf import settings

    from caseledger.collections.models import Reminder
    from caseledger.collections.services import collections_run, policy_default_ensure
    from caseledger.collections.services.run import CHUNK

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    n = 100_000 if ctx.full else 5_000
    firm = generate_firm(matters=max(100, n // 20))
    generate_receivables(
        invoices=n,
        matter_ids=firm.matter_ids,
        matter_client=firm.matter_client,
        paid_share=0.2,
        settlements=True,
    )
    policy_default_ensure(now=NOW)
    plan = collections_run(run_date=AS_OF, now=NOW, dry_run=True)
    rows = []
    for step in plan.steps:
        for channel in step.channels:
            rows.append((step.invoice_id, step.stage_name, channel))
    from caseledger.collections.models import PolicyStage

    stages = {s.name: s for s in PolicyStage.objects.filter(active=True)}
    objs = [
        Reminder(
            invoice_id=invoice_id,
            stage=stages[stage_name],
            channel=channel,
            status="DONE",
            run_date=AS_OF,
            days_past_due=0,
            balance_cents=0,
            created_at=NOW,
        )
        for invoice_id, stage_name, channel in rows
    ]
    t0 = time.perf_counter()
    for start in range(0, len(objs), CHUNK):
        Reminder.objects.bulk_create(objs[start : start + CHUNK])
    base_seconds = time.perf_counter() - t0
    Reminder.objects.all().delete()

    t0 = time.perf_counter()
    first = collections_run(run_date=AS_OF, now=NOW)
    seconds = time.perf_counter() - t0
    scanned = first.stats["invoices"]
    if first.stats["scheduled"] + first.stats["suppressed"] != len(rows):
        raise BenchFailure(
            f"run scheduled {first.stats['scheduled']} steps, dry run planned {len(rows)}"
        )
    t1 = time.perf_counter()
    second = collections_run(run_date=AS_OF, now=NOW)
    rerun_seconds = time.perf_counter() - t1
    if second.stats["scheduled"]:
        raise BenchFailure(f"rerun scheduled {second.stats['scheduled']} steps")
    # The JSON line on stdout keeps the common keys; what the run did goes to stderr.
    details = {
        "first_pass_s": round(seconds, 2),
        "second_pass_s": round(rerun_seconds, 2),
        **{k: first.stats[k] for k in ("scheduled", "suppressed", "emails_sent", "tasks")},
        "holds_set": first.stats["holds_set"],
    }
    sys.stderr.write(json.dumps({"bench": ctx.name, "details": details}) + "\n")
    return result(
        ctx=ctx,
        n=scanned,
        seconds=seconds,
        baseline="bulk_create_reminders",
        baseline_n=scanned,
        baseline_seconds=base_seconds,
        latencies_s=[seconds, rerun_seconds],
    )
