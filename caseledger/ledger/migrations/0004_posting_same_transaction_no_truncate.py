"""Tamper guards on the journal (issue 14, "tamper-evident by construction").

* TRUNCATE refused on entries and postings (PostgreSQL statement triggers; SQLite has no
  TRUNCATE) and on the derived balance rows.
* A posting can only be inserted in the transaction that created its entry:
  - PostgreSQL: ``ledger_journalentry.created_txid`` (a column the database fills with
    ``txid_current()``, unknown to the ORM, never updatable: the table is append-only) and a
    deferred constraint trigger on ``ledger_posting`` comparing it with the inserting
    transaction's ``txid_current()`` (the top-level id, also inside savepoints). A balanced pair
    INSERTed later into a committed entry is refused at commit.
  - SQLite has no transaction id: a trigger refuses a posting for any entry but the newest one
    (writers are serialized, so the posting transaction's entry is always the newest). This
    leaves the newest entry open to a raw INSERT by someone with the database file; ``manage.py
    verify`` then reports the entry's postings against the lines its audit event recorded.
"""

from django.db import migrations

from caseledger.core.migration_ops import NoTruncate

PG_SAME_TXN = [
    "ALTER TABLE ledger_journalentry ADD COLUMN IF NOT EXISTS created_txid bigint "
    "NOT NULL DEFAULT txid_current();",
    """
    CREATE OR REPLACE FUNCTION ledger_posting_same_transaction() RETURNS trigger AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM ledger_journalentry
                     WHERE id = NEW.entry_id AND created_txid = txid_current()) THEN
        RAISE EXCEPTION 'ledger_posting: entry % was created by another transaction; postings '
          'are only added in the transaction that creates their entry', NEW.entry_id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS ledger_posting_same_transaction ON ledger_posting;",
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_same_transaction AFTER INSERT ON ledger_posting
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      EXECUTE FUNCTION ledger_posting_same_transaction();
    """,
]
PG_SAME_TXN_DROP = [
    "DROP TRIGGER IF EXISTS ledger_posting_same_transaction ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_posting_same_transaction();",
    "ALTER TABLE ledger_journalentry DROP COLUMN IF EXISTS created_txid;",
]
SQLITE_NEWEST = [
    "CREATE TRIGGER IF NOT EXISTS ledger_posting_newest_entry BEFORE INSERT ON ledger_posting "
    "WHEN NEW.entry_id <> (SELECT MAX(id) FROM ledger_journalentry) "
    "BEGIN SELECT RAISE(ABORT, 'ledger_posting: postings are only added to the entry being "
    "posted (the newest)'); END;",
]
SQLITE_NEWEST_DROP = ["DROP TRIGGER IF EXISTS ledger_posting_newest_entry;"]


def same_transaction(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_SAME_TXN if vendor == "postgresql" else SQLITE_NEWEST:
        schema_editor.execute(sql, params=None)


def same_transaction_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_SAME_TXN_DROP if vendor == "postgresql" else SQLITE_NEWEST_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_closed_period")]

    operations = [
        NoTruncate("ledger_journalentry"),
        NoTruncate("ledger_posting"),
        NoTruncate("ledger_account"),
        NoTruncate("ledger_accountbalance"),
        NoTruncate("ledger_subledgerbalance"),
        migrations.RunPython(same_transaction, same_transaction_drop),
    ]
