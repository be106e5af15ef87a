"""Database guards: issued invoices and their lines are immutable; stored PDFs append-only."""

from django.db import migrations

from caseledger.billing.migration_ops import InvoiceGuards
from caseledger.core.migration_ops import AppendOnly

# The columns an issued invoice freezes in this schema (copied here: the list in force then).
FROZEN_COLUMNS = (
    "client_id",
    "matter_id",
    "number",
    "currency",
    "issue_date",
    "due_date",
    "subtotal_cents",
    "tax_cents",
    "total_cents",
    "created_at",
    "bill_to",
    "bill_to_name",
    "bill_to_address",
    "bill_to_email",
    "responsible_partner_id",
    "created_by_id",
    "template_id",
    "terms",
    "notes",
    "triggered_at",
    "approved_at",
    "approved_by_id",
    "issued_at",
    "issued_by_id",
    "issue_entry_id",
)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_fee_schedule_time_templates_invoices")]

    operations = [
        InvoiceGuards(FROZEN_COLUMNS),
        AppendOnly("billing_invoicepdf"),
    ]
