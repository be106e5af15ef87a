"""The cash summary (``KpiCashDay``, ADR 020): the A/R postings of collections per day and way of
payment, back-filled from the ledger by a frozen copy of ``reports.summary.rebuild``'s statement
(the A/R account found by its chart code)."""

from django.db import migrations, models

COLLECTED = (
    "PAYMENT_APPLIED",
    "PAYMENT_RECEIVED",
    "PROCESSOR_SETTLEMENT",
    "REFUND",
    "TRUST_TRANSFER_EARNED",
)
METHOD = (
    "CASE WHEN e.kind = 'PAYMENT_RECEIVED' THEN COALESCE(pay.method, 'REVERSED')"
    " WHEN e.kind = 'TRUST_TRANSFER_EARNED' THEN 'TRUST'"
    " WHEN e.kind = 'PAYMENT_APPLIED' THEN 'CREDIT'"
    " WHEN e.kind = 'PROCESSOR_SETTLEMENT' THEN 'SETTLED'"
    " WHEN e.kind = 'REFUND' THEN 'REFUND'"
    " ELSE 'REVERSED' END"
)


def backfill(apps, schema_editor):
    kinds = ", ".join(f"'{k}'" for k in COLLECTED)
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reports_kpicashday (day, method, cents, postings) "
            f"SELECT p.entry_date, {METHOD}, COALESCE(SUM(p.amount_cents), 0), COUNT(*)"
            " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
            " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
            " LEFT JOIN payments_payment pay ON pay.entry_id = e.id"
            " WHERE p.account_id = (SELECT id FROM ledger_account WHERE code = '1200')"
            f" AND (e.kind IN ({kinds}) OR (e.kind = 'REVERSAL' AND r.kind IN ({kinds})))"
            f" GROUP BY p.entry_date, {METHOD}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_kpi_invoice_summary_backfill"),
        ("payments", "0009_payment_entry_once"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiCashDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("method", models.CharField(max_length=16)),
                ("cents", models.BigIntegerField(default=0)),
                ("postings", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("day", "method"), name="reports_kpicashday_key")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
