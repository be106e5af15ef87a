"""The parallel run: for one billing cycle the firm bills in its old system too; the old
invoices of the cycle are imported (the ``clio-bills`` columns: ``number``, ``matter``,
``line_type``, ``line_total``) and compared per matter with CaseLedger's invoices of the cycle
(created in it, not void: drafts included) per line category (fees, government fees, expenses,
tax). Each matter is ``missing`` (the old system billed it, CaseLedger did not), ``extra`` (the
reverse), ``differs`` (some category differs) or ``same``. A partner signs the comparison off;
the signed result is kept as it was signed, with its audit event."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.core import audit
from caseledger.core.amounts import parse_cents
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import locks
from caseledger.imports.models import ParallelRun

CATEGORIES = ("fees", "government_fees", "expenses", "tax")
CATEGORY_LABELS = {
    "fees": "Fees",
    "government_fees": "Government fees",
    "expenses": "Expenses",
    "tax": "Tax",
}
REQUIRED = ("number", "matter", "line_type", "line_total")
# CaseLedger line kinds -> the comparison's category
KIND_CATEGORY = {
    "FEE": "fees",
    "TIME": "fees",
    "INSTALLMENT": "fees",
    "GOVERNMENT_FEE": "government_fees",
    "EXPENSE": "expenses",
    "COST_ADVANCE": "expenses",
}

RUN_PERIOD = "cycle_end: the cycle ends {end}, before it starts {start}"
RUN_COLUMNS = "file: the file needs the columns {missing} (clio-bills layout)"
RUN_ROW = "file: line {line}: {problem}"
RUN_SIGNED = "run: signed off on {on} by {by}"
RUN_SIGNER = "signer: only a partner signs the parallel run off"


class ParallelRunRefused(ApplicationError):
    pass


def _read(content: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(content))
    headers = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise ParallelRunRefused(RUN_COLUMNS.format(missing=", ".join(missing)), field="file")
    out = []
    for record in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
        line = reader.line_num
        if not any(row.values()):
            continue
        category = row["line_type"].lower()
        if category not in CATEGORIES:
            raise ParallelRunRefused(
                RUN_ROW.format(
                    line=line, problem=f"line_type {row['line_type']!r} is not one of {CATEGORIES}"
                ),
                field="file",
            )
        try:
            cents = parse_cents(row["line_total"])
        except Exception:
            raise ParallelRunRefused(
                RUN_ROW.format(line=line, problem=f"line_total {row['line_total']!r} is no amount"),
                field="file",
            ) from None
        if not row["matter"]:
            raise ParallelRunRefused(RUN_ROW.format(line=line, problem="matter is empty"), "file")
        out.append(
            {"matter": row["matter"], "number": row["number"], "category": category, "cents": cents}
        )
    return out


@transaction.atomic
def parallel_run_create(
    *, cycle_start: date, cycle_end: date, filename: str, data: bytes, actor: Any, now: datetime
) -> ParallelRun:
    if cycle_end < cycle_start:
        raise ParallelRunRefused(
            RUN_PERIOD.format(end=cycle_end, start=cycle_start), field="cycle_end"
        )
    lines = _read(data.decode("utf-8-sig"))
    run = ParallelRun.objects.create(
        cycle_start=cycle_start,
        cycle_end=cycle_end,
        filename=filename[:200],
        old_lines=lines,
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.parallel_run_created",
        at=now,
        obj=run,
        after={"lines": len(lines), "start": cycle_start, "end": cycle_end},
    )
    return run


@dataclass
class MatterComparison:
    matter: str
    status: str  # missing, extra, differs, same
    old: dict[str, int]
    new: dict[str, int]
    old_invoices: list[str]
    new_invoices: list[str]

    def difference(self, category: str) -> int:
        return self.new.get(category, 0) - self.old.get(category, 0)

    @property
    def cells(self) -> list[tuple[int, int, int]]:
        """(old, CaseLedger, difference) per category, in CATEGORIES order (for the page)."""
        return [(self.old.get(c, 0), self.new.get(c, 0), self.difference(c)) for c in CATEGORIES]

    @property
    def differences(self) -> dict[str, int]:
        return {c: self.difference(c) for c in CATEGORIES}


def _old_legacy_number(matter: str) -> set[str]:
    """The numbers an old matter number may have in CaseLedger (as itself, or imported L-)."""
    from caseledger.imports.models import LEGACY_PREFIX

    return {matter, f"{LEGACY_PREFIX}{matter}"}


def parallel_compare(run: ParallelRun) -> list[MatterComparison]:
    """The comparison per matter (sorted: missing, extra, differs, then same; then matter)."""
    from django.db.models import Sum

    from caseledger.billing.choices import InvoiceStatus
    from caseledger.billing.models import Invoice, InvoiceLine

    old: dict[str, dict[str, int]] = {}
    old_numbers: dict[str, set[str]] = {}
    for line in run.old_lines:
        key = line["matter"]
        bucket = old.setdefault(key, {})
        bucket[line["category"]] = bucket.get(line["category"], 0) + int(line["cents"])
        old_numbers.setdefault(key, set()).add(line["number"])
    invoices = Invoice.objects.filter(
        created_at__date__gte=run.cycle_start, created_at__date__lte=run.cycle_end
    ).exclude(status=InvoiceStatus.VOID)
    new: dict[str, dict[str, int]] = {}
    new_numbers: dict[str, set[str]] = {}
    for inv in invoices.values("id", "number", "matter__number", "tax_cents"):
        key = inv["matter__number"]
        bucket = new.setdefault(key, {})
        if inv["tax_cents"]:
            bucket["tax"] = bucket.get("tax", 0) + int(inv["tax_cents"])
        new_numbers.setdefault(key, set()).add(inv["number"] or f"draft #{inv['id']}")
    for row in (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .values("invoice__matter__number", "kind")
        .annotate(total=Sum("amount_cents"))
    ):
        key = row["invoice__matter__number"]
        category = KIND_CATEGORY.get(row["kind"], "fees")
        bucket = new.setdefault(key, {})
        bucket[category] = bucket.get(category, 0) + int(row["total"])
    # An old matter number matches the CaseLedger matter imported from it ("L-<number>").
    aliases: dict[str, str] = {}
    for key in old:
        for candidate in sorted(_old_legacy_number(key)):
            if candidate in new:
                aliases[key] = candidate
    out = []
    matched_new = set(aliases.values())
    for key, totals in old.items():
        alias = aliases.get(key)
        mine = new.get(alias, {}) if alias else {}
        if alias is None:
            status = "missing"
        elif all(totals.get(c, 0) == mine.get(c, 0) for c in CATEGORIES):
            status = "same"
        else:
            status = "differs"
        out.append(
            MatterComparison(
                matter=alias or key,
                status=status,
                old=totals,
                new=mine,
                old_invoices=sorted(old_numbers[key]),
                new_invoices=sorted(new_numbers.get(alias or "", set())),
            )
        )
    for key, totals in new.items():
        if key not in matched_new:
            out.append(
                MatterComparison(
                    matter=key,
                    status="extra",
                    old={},
                    new=totals,
                    old_invoices=[],
                    new_invoices=sorted(new_numbers[key]),
                )
            )
    order = {"missing": 0, "extra": 1, "differs": 2, "same": 3}
    out.sort(key=lambda m: (order[m.status], m.matter))
    return out


def parallel_csv(rows: list[MatterComparison]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["matter", "status", "old_invoices", "caseledger_invoices"]
    for c in CATEGORIES:
        header += [f"{c}_old", f"{c}_caseledger", f"{c}_difference"]
    writer.writerow(header)
    for m in rows:
        row: list[Any] = [m.matter, m.status, " ".join(m.old_invoices), " ".join(m.new_invoices)]
        for c in CATEGORIES:
            row += [
                f"{m.old.get(c, 0) / 100:.2f}",
                f"{m.new.get(c, 0) / 100:.2f}",
                f"{m.difference(c) / 100:.2f}",
            ]
        writer.writerow(row)
    return buffer.getvalue()


@transaction.atomic
def parallel_run_sign(*, run: ParallelRun, actor: Any, note: str, now: datetime) -> ParallelRun:
    from caseledger.core.choices import Role

    run = locks.parallel_run_lock(run_id=run.pk)
    if run.signed_at is not None:
        raise ParallelRunRefused(
            RUN_SIGNED.format(on=run.signed_at.date(), by=run.signed_by), field="run"
        )
    if getattr(actor, "role", None) != Role.PARTNER:
        raise ParallelRunRefused(RUN_SIGNER, field="signer")
    rows = parallel_compare(run)
    counts: dict[str, int] = {}
    for m in rows:
        counts[m.status] = counts.get(m.status, 0) + 1
    run.signed_by, run.signed_at, run.note = actor, now, note.strip()[:300]
    run.signed_result = {"counts": counts, "csv": parallel_csv(rows)}
    run.save(update_fields=["signed_by", "signed_at", "note", "signed_result"])
    audit.record(
        actor=actor,
        action="imports.parallel_run_signed",
        at=now,
        obj=run,
        after={"counts": counts, "note": run.note},
    )
    return run
