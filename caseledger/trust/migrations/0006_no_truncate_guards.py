"""TRUNCATE refused (PostgreSQL) on the trust tables: rows that mirror ledger postings."""

from django.db import migrations

from caseledger.core.migration_ops import NoTruncate


class Migration(migrations.Migration):
    dependencies = [("trust", "0005_disbursement_fee_code")]

    operations = [
        NoTruncate("trust_trustdeposit"),
        NoTruncate("trust_trusttransfer"),
        NoTruncate("trust_disbursement"),
        NoTruncate("trust_depositreversal"),
    ]
