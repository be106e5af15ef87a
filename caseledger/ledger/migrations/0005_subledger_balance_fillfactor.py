"""Room on each page of the sub-ledger balance rows (PostgreSQL): ``fillfactor = 50``.

Every posting updates its (account, client, matter) rows' balance. Filled pages leave no room
for the new row version on the same page, so each update was a non-HOT one writing all five
indexes (``entries_post``: 1,000 rows updated by one statement took about 60 ms); with half of
each page free the update stays on the page and writes no index (balance_cents is in none).
Applies to pages written from now on (a ``VACUUM FULL`` rewrites existing ones). SQLite has no
such setting: nothing to do there.
"""

from django.db import migrations


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_subledgerbalance SET (fillfactor = 50)")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_subledgerbalance RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_posting_same_transaction_no_truncate")]

    operations = [migrations.RunPython(fillfactor, fillfactor_reset)]
