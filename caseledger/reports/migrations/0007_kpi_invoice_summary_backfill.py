"""Back-fill the invoice-level KPI summary (ADR 021) from the invoices already issued: a frozen
copy of ``reports.summary.rebuild``'s statements for ``KpiInvoiceDay`` and ``KpiLineDay``."""

from django.db import migrations

# Every invoice, counted once per INVOICE_ISSUED entry naming it less once per reversal of one.
SOURCE = (
    " FROM billing_invoice i JOIN (SELECT x.invoice_id,"
    " SUM(CASE WHEN e.kind = 'INVOICE_ISSUED' THEN 1 ELSE -1 END) AS times"
    " FROM (SELECT DISTINCT p.invoice_id, p.entry_id FROM ledger_posting p"
    " WHERE p.invoice_id IS NOT NULL) x"
    " JOIN ledger_journalentry e ON e.id = x.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " WHERE e.kind = 'INVOICE_ISSUED' OR (e.kind = 'REVERSAL' AND r.kind = 'INVOICE_ISSUED')"
    " GROUP BY x.invoice_id) t ON t.invoice_id = i.id",
    " WHERE i.issue_date IS NOT NULL",
)
LEGAL_FEE_LINES = ("FEE", "TIME", "INSTALLMENT")


def _micros(vendor, end, start):
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER) * 1000"


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    vendor = connection.vendor
    from_, where = SOURCE
    timed = "i.triggered_at IS NOT NULL AND i.issued_at IS NOT NULL"
    approved = f"{timed} AND i.approved_at IS NOT NULL"
    measures = (
        ("TOTAL", _micros(vendor, "i.issued_at", "i.triggered_at"), timed),
        ("REVIEW", _micros(vendor, "i.approved_at", "i.triggered_at"), approved),
        ("ISSUE", _micros(vendor, "i.issued_at", "i.approved_at"), approved),
    )
    parts = [
        f"SELECT i.issue_date AS d, 'ISSUED' AS m, 0 AS v, SUM(t.times) AS n{from_}{where}"
        " GROUP BY i.issue_date"
    ] + [
        f"SELECT i.issue_date AS d, '{measure}' AS m, {value} AS v, SUM(t.times) AS n"
        f"{from_}{where} AND {condition} GROUP BY i.issue_date, {value}"
        for measure, value, condition in measures
    ]
    kinds = ", ".join(f"'{k}'" for k in LEGAL_FEE_LINES)
    keys = "i.issue_date, l.kind, COALESCE(l.timekeeper_id, 0), COALESCE(l.service_id, 0)"
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reports_kpiinvoiceday (issue_date, measure, micros, invoices) "
            "SELECT d, m, v, n FROM (" + " UNION ALL ".join(parts) + ") q WHERE 1 = 1"
        )
        cur.execute(
            "INSERT INTO reports_kpilineday (issue_date, kind, timekeeper_id, service_id, "
            "quantity_hundredths, amount_cents, lines) "
            f"SELECT {keys}, SUM(t.times * CAST(ROUND(l.quantity * 100) AS BIGINT)), "
            f"SUM(t.times * l.amount_cents), SUM(t.times){from_}"
            f" JOIN billing_invoiceline l ON l.invoice_id = i.id{where}"
            f" AND l.kind IN ({kinds}) GROUP BY {keys}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_kpi_invoice_summary"),
        ("billing", "0016_invoice_kpi_index"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
