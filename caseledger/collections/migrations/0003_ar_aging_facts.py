"""The aging fact table: one row per ledger posting to A/R, back-filled from the existing
postings, then made append-only (see collections.services.aging_facts)."""

import django.db.models.deletion
from django.db import migrations, models

from caseledger.core.migration_ops import AppendOnly

# Frozen copy of aging_facts_rebuild's statement (the A/R account found by its chart code).
BACKFILL_SQL = (
    "INSERT INTO collections_aragingfact "
    "(posting_id, entry_date, due_date, amount_cents, client_id, matter_id, invoice_id) "
    "SELECT p.id, p.entry_date, i.due_date, p.amount_cents, p.client_id, p.matter_id, "
    "p.invoice_id FROM ledger_posting p "
    "JOIN ledger_account a ON a.id = p.account_id AND a.code = '1200' "
    "LEFT JOIN billing_invoice i ON i.id = p.invoice_id "
    "WHERE NOT EXISTS (SELECT 1 FROM collections_aragingfact f WHERE f.posting_id = p.id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_sales_tax_account"),
        ("clients", "0003_client_details_contacts_beneficiaries"),
        ("collections", "0002_default_policy"),
        ("ledger", "0002_chart_and_guards"),
        ("matters", "0004_case_type_required_stage_events_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="ARAgingFact",
            fields=[
                (
                    "posting",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="ledger.posting",
                    ),
                ),
                ("entry_date", models.DateField()),
                ("due_date", models.DateField(blank=True, null=True)),
                ("amount_cents", models.BigIntegerField()),
                (
                    "client",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="clients.client",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="billing.invoice",
                    ),
                ),
                (
                    "matter",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="matters.matter",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(BACKFILL_SQL, reverse_sql=migrations.RunSQL.noop),
        AppendOnly("collections_aragingfact"),
    ]
