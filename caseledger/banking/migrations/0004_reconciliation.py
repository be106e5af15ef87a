"""Reconciliations (prepared, signed, reopened; never deleted) and the closed-month guard of the
banking tables: once a month is signed (ledger.ClosedPeriod on the bank's ledger account), no
statement line dated in it may be added and no match of such a line made or undone, so the
signed report reproduces (both databases)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from caseledger.core.migration_ops import NoDelete

_CLOSED = (
    "SELECT 1 FROM banking_bankaccount b JOIN ledger_closedperiod c "
    "ON c.account_id = b.ledger_account_id AND c.is_active "
    "WHERE b.id = {account} AND c.closed_through >= {day}"
)
# A match changes a signed month's report only when both its line and its posting are dated
# in the closed period; a closed month's line may still be matched to a later posting (the
# correction of an unrecorded bank fee) and a closed month's posting to a later line.
_LINE_CLOSED = (
    "SELECT 1 FROM banking_statementline l JOIN banking_bankaccount b ON b.id = l.bank_account_id "
    "JOIN ledger_closedperiod c ON c.account_id = b.ledger_account_id AND c.is_active "
    "JOIN ledger_posting p ON p.id = {posting} "
    "WHERE l.id = {line} AND c.closed_through >= l.booking_date "
    "AND c.closed_through >= p.entry_date"
)
LINE_MESSAGE = "banking_closed_period: the statement line is dated in a signed (closed) month"
MATCH_MESSAGE = (
    "banking_closed_period: the match is of a line and a posting in a signed (closed) month"
)

# SQLite: no DELETE guard on matches (the test suite empties tables with DELETE between
# transactional tests, and a closed month's matches would refuse it); PostgreSQL guards
# DELETE too (its flush is TRUNCATE, which row triggers do not see). Unmatching services
# check ``reconciliation.services.line_closed`` on both databases.
SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS banking_line_period_open BEFORE INSERT ON banking_statementline
    WHEN EXISTS ({_CLOSED.format(account="NEW.bank_account_id", day="NEW.booking_date")})
    BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS banking_match_period_open_ins BEFORE INSERT ON banking_linematch
    WHEN EXISTS ({_LINE_CLOSED.format(line="NEW.line_id", posting="NEW.posting_id")})
    BEGIN SELECT RAISE(ABORT, '{MATCH_MESSAGE}'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS banking_match_period_open_upd BEFORE UPDATE ON banking_linematch
    WHEN EXISTS ({_LINE_CLOSED.format(line="OLD.line_id", posting="OLD.posting_id")})
      OR EXISTS ({_LINE_CLOSED.format(line="NEW.line_id", posting="NEW.posting_id")})
    BEGIN SELECT RAISE(ABORT, '{MATCH_MESSAGE}'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS banking_line_period_open;",
    "DROP TRIGGER IF EXISTS banking_match_period_open_ins;",
    "DROP TRIGGER IF EXISTS banking_match_period_open_del;",
    "DROP TRIGGER IF EXISTS banking_match_period_open_upd;",
]
PG = [
    f"""CREATE OR REPLACE FUNCTION banking_line_period_open() RETURNS trigger AS $$
    BEGIN
      IF EXISTS ({_CLOSED.format(account="NEW.bank_account_id", day="NEW.booking_date")}) THEN
        RAISE EXCEPTION '{LINE_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;""",
    "DROP TRIGGER IF EXISTS banking_line_period_open ON banking_statementline;",
    """CREATE TRIGGER banking_line_period_open BEFORE INSERT ON banking_statementline
      FOR EACH ROW EXECUTE FUNCTION banking_line_period_open();""",
    f"""CREATE OR REPLACE FUNCTION banking_match_period_open() RETURNS trigger AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS ({_LINE_CLOSED.format(line="OLD.line_id", posting="OLD.posting_id")})
         OR TG_OP IN ('UPDATE', 'INSERT') AND EXISTS ({_LINE_CLOSED.format(line="NEW.line_id", posting="NEW.posting_id")})
      THEN
        RAISE EXCEPTION '{MATCH_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;""",
    "DROP TRIGGER IF EXISTS banking_match_period_open ON banking_linematch;",
    """CREATE TRIGGER banking_match_period_open BEFORE INSERT OR UPDATE OR DELETE
      ON banking_linematch FOR EACH ROW EXECUTE FUNCTION banking_match_period_open();""",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS banking_line_period_open ON banking_statementline;",
    "DROP TRIGGER IF EXISTS banking_match_period_open ON banking_linematch;",
    "DROP FUNCTION IF EXISTS banking_line_period_open();",
    "DROP FUNCTION IF EXISTS banking_match_period_open();",
]


def guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql, params=None)


def guards_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0003_matching_settings"),
        ("ledger", "0003_closed_period"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Reconciliation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_start", models.DateField()),
                ("period_end", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("PREPARED", "Prepared, waiting for review"),
                            ("SIGNED", "Signed"),
                            ("REOPENED", "Reopened (superseded)"),
                            ("DISCARDED", "Discarded (prepared again)"),
                        ],
                        max_length=10,
                    ),
                ),
                ("report", models.JSONField()),
                ("report_sha256", models.CharField(max_length=64)),
                ("prev_chain_hash", models.CharField(blank=True, max_length=64)),
                ("chain_hash", models.CharField(blank=True, max_length=64)),
                ("statement_balance_cents", models.BigIntegerField()),
                ("adjusted_bank_cents", models.BigIntegerField()),
                ("journal_cents", models.BigIntegerField()),
                ("client_total_cents", models.BigIntegerField(blank=True, null=True)),
                ("is_balanced", models.BooleanField()),
                ("prepared_at", models.DateTimeField()),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                ("pdf", models.BinaryField(blank=True)),
                ("reopened_at", models.DateTimeField(blank=True, null=True)),
                ("reopen_reason", models.CharField(blank=True, max_length=500)),
                (
                    "bank_account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliations",
                        to="banking.bankaccount",
                    ),
                ),
                (
                    "prepared_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "previous",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="next",
                        to="banking.reconciliation",
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
                (
                    "signed_by",
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
                        fields=["bank_account", "period_end", "id"],
                        name="banking_rec_bank_ac_4c073d_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["PREPARED", "SIGNED", "REOPENED", "DISCARDED"])
                        ),
                        name="banking_recon_status_valid",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ["PREPARED", "SIGNED"])),
                        fields=("bank_account", "period_end"),
                        name="banking_recon_one_live_per_month",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status__in", ["SIGNED", "REOPENED"]), _negated=True),
                            models.Q(
                                ("signed_at__isnull", False),
                                ("signed_by__isnull", False),
                                models.Q(("chain_hash", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="banking_recon_signed_complete",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("signed_by", models.F("prepared_by")), _negated=True),
                        name="banking_recon_signer_not_preparer",
                    ),
                ],
            },
        ),
        migrations.RunPython(guards, guards_drop),
        NoDelete("banking_reconciliation"),
    ]
