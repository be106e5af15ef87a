"""The invoice tally's writes outside its triggers (``models.InvoiceTally``, payments 0008):
``invoice_tally_compact`` folds the delta rows into one row per key (the periodic job
``tasks.invoice_tally_compact_job``), ``invoice_tally_rebuild`` recomputes them from the
invoices (after a bulk load that ran with the triggers off). ``TALLY_FROM_INVOICES`` is the
direct aggregate both the rebuild and ``selectors.invoice_tally_verify`` use."""

from __future__ import annotations

from django.db import connection, transaction

from caseledger.core.deltas import delta_rows_fold

TALLY = "payments_invoicetally"
COLUMNS = "status, responsible_partner_id, invoice_count, total_cents, balance_due_cents"
KEY = "status, responsible_partner_id"
SUMS = "SUM(invoice_count), SUM(total_cents), SUM(balance_due_cents)"
NONZERO = "SUM(invoice_count) <> 0 OR SUM(total_cents) <> 0 OR SUM(balance_due_cents) <> 0"

# Per (status, responsible partner): the invoices' count, total and balance due, the page's rule
# (``selectors.invoice_money_annotate``: an ISSUED invoice owes its settlement's balance, its
# total while it has none; any other status owes nothing).
TALLY_FROM_INVOICES = (
    "SELECT i.status, i.responsible_partner_id, COUNT(*), SUM(i.total_cents), "
    "SUM(CASE WHEN i.status = 'ISSUED' THEN COALESCE(s.balance_due_cents, i.total_cents) "
    "ELSE 0 END) FROM billing_invoice i "
    "LEFT JOIN payments_invoicesettlement s ON s.invoice_id = i.id "
    "GROUP BY i.status, i.responsible_partner_id"
)


def invoice_tally_compact() -> int:
    """Replace the tally's rows by one row per key with their sums, dropping keys whose sums are
    all zero (``core.deltas.delta_rows_fold``); returns the rows left."""
    return delta_rows_fold(table=TALLY, columns=COLUMNS, key=KEY, sums=SUMS, having=NONZERO)


def invoice_tally_rebuild() -> int:
    """Recompute the tally from the invoices and their settlements (one row per key); returns
    the rows written. For a bulk load that ran with the per-row triggers off
    (``session_replication_role = replica``); call it inside that load's transaction."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TALLY}")
        cur.execute(f"INSERT INTO {TALLY} ({COLUMNS}) {TALLY_FROM_INVOICES}")
        return int(cur.rowcount)
