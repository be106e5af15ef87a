"""The aging report's read of the open A/R (ADR 022, "Reading the open rows"): a covering index
on (client, matter) including the due date and the amount, so PostgreSQL sums the open rows
per (client, matter) in one ordered index-only scan, grouped as it streams.

An index-only scan skips the table only for pages the visibility map marks all-visible, which
VACUUM does. The table changes with every A/R posting, so on PostgreSQL autovacuum visits it
after 2% of its rows changed or were added (the default, 20%, would let most pages go
unmarked between visits on a large table). SQLite ignores ``include`` and has no such setting.
"""

from django.db import migrations, models


def autovacuum_often(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE collections_aragingopen SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_vacuum_insert_scale_factor = 0.02)"
        )


def autovacuum_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE collections_aragingopen RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_insert_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0016_invoice_kpi_index"),
        ("clients", "0009_beneficiary_account_access"),
        ("collections", "0007_aging_open_backfill"),
        ("matters", "0010_matter_documents"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="aragingopen",
            index=models.Index(
                fields=["client", "matter"],
                include=("due_date", "open_cents"),
                name="collections_open_cm_cover",
            ),
        ),
        migrations.RunPython(autovacuum_often, autovacuum_default),
    ]
