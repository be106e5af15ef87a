from __future__ import annotations

from datetime import date
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


def cutover_reconciliation(cutover: Cutover | None, today: date) -> dict[str, Any]:
    """The cutover's three-way reconciliation for the cutover page: the trust bank account
    (``recon_account``; None before finalize, or for a firm with no trust bank at the
    cutover), the date's prepared or signed record (``recon_record``) and whether it can be
    prepared now (``recon_can_prepare``: none yet and the date is over)."""
    statement = cutover.bank_statement if cutover is not None else None
    if cutover is None or statement is None:
        return {"recon_account": None, "recon_record": None, "recon_can_prepare": False}
    from caseledger.banking.reconciliation.selectors import reconciliation_live

    account = statement.bank_account
    record = reconciliation_live(account, cutover.as_of)
    return {
        "recon_account": account,
        "recon_record": record,
        "recon_can_prepare": record is None and cutover.as_of < today,
    }


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
    """Imported invoices, still-open first (oldest due first), with client and matter,
    ``paid_before`` (cents paid in the old system before the cutover, as imported) and
    ``adjusted_before`` (cents it credited, wrote off or discounted before the cutover)."""
    from django.db.models import F, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from caseledger.imports.models import LegacyHistoryAdjustment, LegacyHistoryPayment

    def before(model: type[LegacyHistoryPayment] | type[LegacyHistoryAdjustment]) -> Coalesce:
        total = (
            model.objects.filter(invoice=OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=Sum("amount_cents"))
            .values("total")
        )
        return Coalesce(Subquery(total), 0)

    return list(
        LegacyInvoice.objects.select_related("client", "matter")
        .annotate(
            open=F("balance_cents") - F("paid_cents"),
            paid_before=before(LegacyHistoryPayment),
            adjusted_before=before(LegacyHistoryAdjustment),
        )
        .order_by(F("open").desc(nulls_last=True), "due_date", "id")[:limit]
    )


def legacy_invoice_detail(invoice: LegacyInvoice) -> dict[str, Any]:
    """One imported invoice: its lines, the payments and the adjustments (credit notes,
    write-offs, discounts) before the cutover (history, as imported) and the payments
    recorded here since, with their totals."""
    history = list(invoice.history_payments.order_by("received_date", "id"))
    adjustments = list(invoice.history_adjustments.order_by("adjustment_date", "id"))
    since = list(invoice.payments.select_related("payment").order_by("created_at", "id"))
    return {
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position")),
        "history": history,
        "paid_before_cents": sum(p.amount_cents for p in history),
        "adjustments": adjustments,
        "adjusted_before_cents": sum(a.amount_cents for a in adjustments),
        "since": since,
    }
