"""The cohort summary (``KpiCohortDay``, ``KpiCohortIssueDay``, ADR 024): the A/R postings summed
per day (and issue date) and cohort key, back-filled from the ledger and the current clients and
matters by a frozen copy of ``reports.summary.rebuild_cohorts``'s statements (the A/R account
found by its chart code)."""

from django.db import migrations, models

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
WINDOW = 30
KEY = (
    "COALESCE(c.client_type, ''), COALESCE(c.intake_source, ''), COALESCE(m.case_type_id, 0),"
    " COALESCE(m.responsible_partner_id, 0), COALESCE(m.office, '')"
)
COLUMNS = "client_type, intake_source, case_type_id, partner_id, office"
FROM = (
    " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " LEFT JOIN billing_invoice i ON i.id = p.invoice_id"
    " LEFT JOIN clients_client c ON c.id = p.client_id"
    " LEFT JOIN matters_matter m ON m.id = p.matter_id"
    " WHERE p.account_id = (SELECT id FROM ledger_account WHERE code = '1200')"
)
ISSUE_DATE = (
    "COALESCE(i.issue_date, CASE WHEN e.kind = 'INVOICE_ISSUED' AND i.id IS NOT NULL "
    "THEN p.entry_date END)"
)


def _in(name):
    kinds = ", ".join(f"'{k}'" for k in CATEGORIES[name])
    return f"(e.kind IN ({kinds}) OR (e.kind = 'REVERSAL' AND r.kind IN ({kinds})))"


def _sum_if(condition, value="p.amount_cents"):
    return f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)"


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        days = "(p.entry_date - i.issue_date)"
    else:
        days = "CAST(ROUND(julianday(p.entry_date) - julianday(i.issue_date)) AS INTEGER)"
    paid = f"{_in('collected')} AND i.issue_date IS NOT NULL"
    day_sums = [
        _sum_if(_in("billed")),
        _sum_if(_in("collected")),
        _sum_if(_in("credited")),
        _sum_if(_in("written_off")),
        _sum_if(paid),
        _sum_if(paid, f"p.amount_cents * {days}"),
        "COUNT(*)",
    ]
    issue_sums = [_sum_if("e.kind = 'INVOICE_ISSUED'"), _sum_if(_in("collected")), "COUNT(*)"]
    within = f"({_in('collected')} AND {days} <= {WINDOW})"
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO reports_kpicohortday (day, {COLUMNS}, billed_cents, collected_cents,"
            " credited_cents, written_off_cents, paid_cents, paid_day_cents, postings)"
            f" SELECT p.entry_date, {KEY}, {', '.join(day_sums)}{FROM}"
            f" GROUP BY p.entry_date, {KEY}"
        )
        cur.execute(
            f"INSERT INTO reports_kpicohortissueday (issue_date, day, {COLUMNS}, issued_cents,"
            " collected_cents, postings)"
            f" SELECT {ISSUE_DATE}, p.entry_date, {KEY}, {', '.join(issue_sums)}{FROM}"
            f" AND {ISSUE_DATE} IS NOT NULL AND (e.kind = 'INVOICE_ISSUED' OR {within})"
            f" GROUP BY {ISSUE_DATE}, p.entry_date, {KEY}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_kpi_cash_summary"),
        ("clients", "0007_client_intake_source"),
        ("matters", "0008_matter_office"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiCohortDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("client_type", models.CharField(max_length=12)),
                ("intake_source", models.CharField(max_length=12)),
                ("case_type_id", models.BigIntegerField()),
                ("partner_id", models.BigIntegerField()),
                ("office", models.CharField(max_length=60)),
                ("billed_cents", models.BigIntegerField(default=0)),
                ("collected_cents", models.BigIntegerField(default=0)),
                ("credited_cents", models.BigIntegerField(default=0)),
                ("written_off_cents", models.BigIntegerField(default=0)),
                ("paid_cents", models.BigIntegerField(default=0)),
                ("paid_day_cents", models.BigIntegerField(default=0)),
                ("postings", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "day",
                            "client_type",
                            "intake_source",
                            "case_type_id",
                            "partner_id",
                            "office",
                        ),
                        name="reports_kpicohortday_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="KpiCohortIssueDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("issue_date", models.DateField()),
                ("day", models.DateField()),
                ("client_type", models.CharField(max_length=12)),
                ("intake_source", models.CharField(max_length=12)),
                ("case_type_id", models.BigIntegerField()),
                ("partner_id", models.BigIntegerField()),
                ("office", models.CharField(max_length=60)),
                ("issued_cents", models.BigIntegerField(default=0)),
                ("collected_cents", models.BigIntegerField(default=0)),
                ("postings", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "issue_date",
                            "day",
                            "client_type",
                            "intake_source",
                            "case_type_id",
                            "partner_id",
                            "office",
                        ),
                        name="reports_kpicohortissueday_key",
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
