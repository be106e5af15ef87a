"""Database guards: issued invoices and their lines are immutable; stored PDFs append-only."""

from django.db import migrations

from caseledger.billing.db import InvoiceGuards
from caseledger.core.db import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_fee_schedule_time_templates_invoices")]

    operations = [
        InvoiceGuards(),
        AppendOnly("billing_invoicepdf"),
    ]
