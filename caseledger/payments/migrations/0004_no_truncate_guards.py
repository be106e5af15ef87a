"""TRUNCATE refused (PostgreSQL) on the payment tables: rows that mirror ledger postings."""

from django.db import migrations

from caseledger.core.db import NoTruncate


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_corrections_and_form_tokens")]

    operations = [
        NoTruncate("payments_invoicesettlement"),
        NoTruncate("payments_payment"),
        NoTruncate("payments_paymentallocation"),
        NoTruncate("payments_creditrefund"),
        NoTruncate("payments_providerrefund"),
        NoTruncate("payments_paymentreopening"),
        NoTruncate("payments_paymentreversal"),
    ]
