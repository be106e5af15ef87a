"""TRUNCATE refused (PostgreSQL) on the payment tables: rows that mirror ledger postings."""

from django.db import migrations

from caseledger.core.migration_ops import NoTruncate


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_two_phase_card_refunds")]

    operations = [
        NoTruncate("payments_invoicesettlement"),
        NoTruncate("payments_payment"),
        NoTruncate("payments_paymentallocation"),
        NoTruncate("payments_creditrefund"),
        NoTruncate("payments_providerrefund"),
        NoTruncate("payments_paymentreopening"),
        NoTruncate("payments_paymentreversal"),
    ]
