"""TRUNCATE refused (PostgreSQL) on the invoice tables and the append-only stored PDFs."""

from django.db import migrations

from caseledger.core.migration_ops import NoTruncate


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_matter_fee_path")]

    operations = [
        NoTruncate("billing_invoicepdf"),
        NoTruncate("billing_invoice"),
        NoTruncate("billing_invoiceline"),
    ]
