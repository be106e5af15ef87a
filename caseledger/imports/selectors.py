from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import Count, Sum

from caseledger.imports.choices import CutoverStatus, RecordKind
from caseledger.imports.models import Cutover, ImportJob, LegacyInvoice, OpeningBalance

SAMPLES = Path(__file__).parent / "samples"
PREVIEW_ROWS = 10


def job_list(limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.exclude(filename="dry run").order_by("-id")[:limit])


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.csv"))


def job_preview(job: ImportJob) -> dict[str, Any]:
    """The first rows as the mapping reads them: field names and the values per row."""
    from caseledger.imports.services import _mapped, read_csv, source_get

    source = source_get(job.source)
    _, rows = read_csv(job.content)
    names = [f.name for f in source.fields if job.columns.get(f.name) or job.defaults.get(f.name)]
    out = []
    for line, row in rows[:PREVIEW_ROWS]:
        values = _mapped(row, job.columns, job.defaults, source)
        out.append({"line": line, "values": [values[n] for n in names]})
    return {"fields": names, "rows": out}


def cutover_current() -> Cutover | None:
    return (
        Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("-id").first()
        or Cutover.objects.filter(status=CutoverStatus.DRAFT).order_by("-id").first()
    )


def opening_summary() -> dict[str, Any]:
    invoices = LegacyInvoice.objects.filter(balance_cents__gt=0).aggregate(
        n=Count("id"), total=Sum("balance_cents")
    )
    trust = OpeningBalance.objects.filter(kind=RecordKind.TRUST).aggregate(
        n=Count("id"), total=Sum("amount_cents")
    )
    credit = OpeningBalance.objects.filter(kind=RecordKind.CREDIT).aggregate(
        n=Count("id"), total=Sum("amount_cents")
    )
    return {
        "open_invoices": invoices["n"],
        "trust_lines": trust["n"],
        "credit_lines": credit["n"],
        "credit_total": credit["total"] or 0,
    }


def legacy_invoice_list(limit: int = 500) -> list[LegacyInvoice]:
    """Imported invoices, still-open first (oldest due first), with client and matter."""
    from django.db.models import F

    return list(
        LegacyInvoice.objects.select_related("client", "matter")
        .annotate(open=F("balance_cents") - F("paid_cents"))
        .order_by(F("open").desc(nulls_last=True), "due_date", "id")[:limit]
    )
