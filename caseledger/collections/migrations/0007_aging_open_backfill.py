"""Back-fill the open A/R per receivable (``ARAgingOpen``, ADR 022) from the aging facts already
written: a frozen copy of ``services.aging_facts.aging_open_rebuild``'s statement (the key built
as ``open_key_sql`` builds it on each database)."""

from django.db import migrations


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    due = "to_char(f.due_date, 'YYYY-MM-DD')" if connection.vendor == "postgresql" else "f.due_date"
    key = " || '|' || ".join(
        [
            "COALESCE(CAST(f.invoice_id AS VARCHAR(20)), '')",
            "COALESCE(CAST(f.client_id AS VARCHAR(20)), '')",
            "COALESCE(CAST(f.matter_id AS VARCHAR(20)), '')",
            f"COALESCE({due}, '')",
            "COALESCE(f.reference, '')",
        ]
    )
    with connection.cursor() as cur:
        cur.execute("DELETE FROM collections_aragingopen")
        cur.execute(
            "INSERT INTO collections_aragingopen "
            "(key, invoice_id, client_id, matter_id, due_date, reference, open_cents) "
            f"SELECT {key}, f.invoice_id, f.client_id, f.matter_id, f.due_date, f.reference, "
            "SUM(f.amount_cents) FROM collections_aragingfact f "
            "GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(f.amount_cents) <> 0"
        )


class Migration(migrations.Migration):
    dependencies = [("collections", "0006_aging_open")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
