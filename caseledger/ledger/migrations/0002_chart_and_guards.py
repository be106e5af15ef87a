"""Seed the chart of accounts and install the database guards of the journal.

- entries and postings are append-only (UPDATE/DELETE refused by triggers, both databases);
- accounts are never deleted (trigger), only deactivated;
- PostgreSQL: deferred constraint triggers check at COMMIT that every entry has postings and
  that its postings sum to zero (SQLite has no deferred triggers; entry_post checks there).

The chart is copied here as it was at this migration (later additions get their own migration).
"""

from django.db import migrations

from caseledger.core.migration_ops import AppendOnly, NoDelete

# (code, name, type, normal balance, is_trust, description)
CHART = (
    (
        "1000",
        "Operating bank",
        "ASSET",
        "DEBIT",
        False,
        "The firm's own bank account: earned fees and firm expenses.",
    ),
    (
        "1010",
        "Trust bank (IOLTA)",
        "ASSET",
        "DEBIT",
        True,
        "Pooled client trust account. Holds only client money.",
    ),
    (
        "1200",
        "Accounts receivable",
        "ASSET",
        "DEBIT",
        False,
        "Issued invoices not yet paid, per client, matter and invoice.",
    ),
    (
        "1300",
        "Client cost advances",
        "ASSET",
        "DEBIT",
        False,
        "Government and third-party fees the firm paid for clients, to be re-billed.",
    ),
    (
        "1400",
        "Payment processor clearing",
        "ASSET",
        "DEBIT",
        False,
        "Card payments captured but not yet paid out by the processor.",
    ),
    (
        "2100",
        "Client trust liability",
        "LIABILITY",
        "CREDIT",
        True,
        "What the firm owes each client from trust; sub-ledger per client and matter.",
    ),
    (
        "2200",
        "Unapplied client credits",
        "LIABILITY",
        "CREDIT",
        False,
        "Client payments and credits not yet applied to an invoice.",
    ),
    ("3000", "Owners' equity", "EQUITY", "CREDIT", False, "Opening balances and owners' capital."),
    ("4000", "Fee revenue", "REVENUE", "CREDIT", False, "Legal fees billed."),
    ("5100", "Write-offs", "EXPENSE", "DEBIT", False, "Receivables the firm gave up collecting."),
    (
        "5200",
        "Card processing fees",
        "EXPENSE",
        "DEBIT",
        False,
        "Processor fees; always paid from operating, never from trust.",
    ),
    ("5300", "Refunds", "EXPENSE", "DEBIT", False, "Fees refunded to clients from operating."),
)

PG_BALANCED = [
    """
    CREATE OR REPLACE FUNCTION ledger_entry_sums_to_zero() RETURNS trigger AS $$
    DECLARE total bigint;
    BEGIN
      SELECT COALESCE(SUM(amount_cents), 0) INTO total
        FROM ledger_posting WHERE entry_id = NEW.entry_id;
      IF total <> 0 THEN
        RAISE EXCEPTION 'ledger_posting: entry % does not sum to zero (off by % cents)',
          NEW.entry_id, total USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;",
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      EXECUTE FUNCTION ledger_entry_sums_to_zero();
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_entry_has_postings() RETURNS trigger AS $$
    BEGIN
      IF (SELECT COUNT(*) FROM ledger_posting WHERE entry_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger_journalentry: entry % has fewer than two postings', NEW.id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS ledger_entry_has_postings ON ledger_journalentry;",
    """
    CREATE CONSTRAINT TRIGGER ledger_entry_has_postings AFTER INSERT ON ledger_journalentry
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      EXECUTE FUNCTION ledger_entry_has_postings();
    """,
]
PG_BALANCED_DROP = [
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;",
    "DROP TRIGGER IF EXISTS ledger_entry_has_postings ON ledger_journalentry;",
    "DROP FUNCTION IF EXISTS ledger_entry_sums_to_zero();",
    "DROP FUNCTION IF EXISTS ledger_entry_has_postings();",
]


def seed_chart(apps, schema_editor):
    from django.utils import timezone

    Firm = apps.get_model("core", "Firm")
    Account = apps.get_model("ledger", "Account")
    AccountBalance = apps.get_model("ledger", "AccountBalance")
    firm, _ = Firm.objects.get_or_create(id=1)
    now = timezone.now()
    for code, name, account_type, normal, is_trust, description in CHART:
        account, created = Account.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "account_type": account_type,
                "normal_balance": normal,
                "is_trust": is_trust,
                "description": description,
                "currency": firm.currency,
                "created_at": now,
            },
        )
        AccountBalance.objects.get_or_create(account=account)


def deferred_checks(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_BALANCED:
            schema_editor.execute(sql, params=None)


def deferred_checks_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_BALANCED_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_guards_and_firm"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_chart, migrations.RunPython.noop),
        AppendOnly("ledger_journalentry"),
        AppendOnly("ledger_posting"),
        NoDelete("ledger_account"),
        migrations.RunPython(deferred_checks, deferred_checks_drop),
    ]
