"""Back-fill the KPI summary (ADR 020) from the A/R postings already in the ledger: a frozen copy
of ``reports.summary.rebuild``'s statements (the A/R account found by its chart code)."""

from django.db import migrations

CATEGORIES = {
    "billed": ("INVOICE_ISSUED", "INVOICE_VOID"),
    "collected": (
        "PAYMENT_APPLIED",
        "PAYMENT_RECEIVED",
        "PROCESSOR_SETTLEMENT",
        "REFUND",
        "TRUST_TRANSFER_EARNED",
    ),
    "credited": ("CREDIT_NOTE",),
    "written_off": ("WRITE_OFF", "WRITE_OFF_REVERSAL"),
}
FROM = (
    " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " LEFT JOIN billing_invoice i ON i.id = p.invoice_id"
    " WHERE p.account_id = (SELECT id FROM ledger_account WHERE code = '1200')"
)


def _in(name):
    kinds = ", ".join(f"'{k}'" for k in CATEGORIES[name])
    return f"(e.kind IN ({kinds}) OR (e.kind = 'REVERSAL' AND r.kind IN ({kinds})))"


def _sum_if(condition, value="p.amount_cents"):
    return f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)"


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        days = "(p.entry_date - i.issue_date)"
    else:
        days = "CAST(ROUND(julianday(p.entry_date) - julianday(i.issue_date)) AS INTEGER)"
    paid = f"{_in('collected')} AND i.issue_date IS NOT NULL"
    day_sums = [
        _sum_if(_in("billed")),
        _sum_if(_in("collected")),
        _sum_if(_in("credited")),
        _sum_if(_in("written_off")),
        "COALESCE(SUM(p.amount_cents), 0)",
        _sum_if(paid),
        _sum_if(paid, f"p.amount_cents * {days}"),
        "COUNT(*)",
    ]
    issue_sums = [
        _sum_if(_in("billed")),
        _sum_if("e.kind = 'INVOICE_ISSUED'"),
        _sum_if(_in("collected")),
        "COUNT(*)",
    ]
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reports_kpiday (day, billed_cents, collected_cents, credited_cents, "
            "written_off_cents, net_cents, paid_cents, paid_day_cents, postings) "
            f"SELECT p.entry_date, {', '.join(day_sums)}{FROM} GROUP BY p.entry_date"
        )
        cur.execute(
            "INSERT INTO reports_kpiissueday (issue_date, day, billed_cents, issued_cents, "
            "collected_cents, postings) "
            f"SELECT i.issue_date, p.entry_date, {', '.join(issue_sums)}{FROM}"
            " AND i.issue_date IS NOT NULL GROUP BY i.issue_date, p.entry_date"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_kpi_summary"),
        ("ledger", "0004_posting_same_transaction_no_truncate"),
        ("billing", "0014_invoice_list_indexes"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
