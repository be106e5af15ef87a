"""Closed periods: a signed bank reconciliation closes its ledger account through a date, and a
trigger on ``ledger_posting`` refuses any posting dated on or before it (both databases). Rows
are never deleted (reopening marks them inactive)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from caseledger.core.migration_ops import NoDelete

# The refusal names the account and the date on PostgreSQL; SQLite's RAISE takes a constant
# message, so entry_post looks the date up there. Both start with "ledger_closed_period:".
PG_CLOSED = [
    """
    CREATE OR REPLACE FUNCTION ledger_posting_period_open() RETURNS trigger AS $$
    DECLARE through date; label text;
    BEGIN
      SELECT MAX(c.closed_through) INTO through FROM ledger_closedperiod c
        WHERE c.account_id = NEW.account_id AND c.is_active AND c.closed_through >= NEW.entry_date;
      IF through IS NOT NULL THEN
        SELECT a.code || ' ' || a.name INTO label FROM ledger_account a WHERE a.id = NEW.account_id;
        RAISE EXCEPTION 'ledger_closed_period: % is closed through %', label,
          to_char(through, 'YYYY-MM-DD') USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS ledger_posting_period_open ON ledger_posting;",
    """
    CREATE TRIGGER ledger_posting_period_open BEFORE INSERT ON ledger_posting
      FOR EACH ROW EXECUTE FUNCTION ledger_posting_period_open();
    """,
]
PG_CLOSED_DROP = [
    "DROP TRIGGER IF EXISTS ledger_posting_period_open ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_posting_period_open();",
]
SQLITE_CLOSED = [
    """
    CREATE TRIGGER IF NOT EXISTS ledger_posting_period_open BEFORE INSERT ON ledger_posting
    WHEN EXISTS (
      SELECT 1 FROM ledger_closedperiod c WHERE c.account_id = NEW.account_id AND c.is_active
        AND c.closed_through >= NEW.entry_date
    )
    BEGIN SELECT RAISE(ABORT, 'ledger_closed_period: account is closed (signed reconciliation)');
    END;
    """,
]
SQLITE_CLOSED_DROP = ["DROP TRIGGER IF EXISTS ledger_posting_period_open;"]


def closed_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_CLOSED if vendor == "postgresql" else SQLITE_CLOSED:
        schema_editor.execute(sql, params=None)


def closed_trigger_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_CLOSED_DROP if vendor == "postgresql" else SQLITE_CLOSED_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_chart_and_guards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClosedPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("closed_through", models.DateField()),
                ("reference", models.CharField(max_length=80)),
                ("is_active", models.BooleanField(default=True)),
                ("closed_at", models.DateTimeField()),
                ("reopened_at", models.DateTimeField(blank=True, null=True)),
                ("reopen_reason", models.CharField(blank=True, max_length=500)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.account",
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reopened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("is_active", True)),
                        fields=["account", "closed_through"],
                        name="ledger_closed_active_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("is_active", True), ("reopened_at__isnull", True)),
                            models.Q(("is_active", False), ("reopened_at__isnull", False)),
                            _connector="OR",
                        ),
                        name="ledger_closedperiod_reopen_recorded",
                    )
                ],
            },
        ),
        migrations.RunPython(closed_trigger, closed_trigger_drop),
        NoDelete("ledger_closedperiod"),
    ]
