"""The retention purge may redact an issued invoice's bill-to snapshot (name to the client's
pseudonym ``Purged client C-<id>``, no address, no email; nothing else of the invoice changes)
and delete its stored PDF once that is done (the PDF is then rendered from the redacted invoice,
amounts and number as issued)."""

from django.db import migrations

from caseledger.billing.migration_ops import InvoiceGuards
from caseledger.core.migration_ops import AppendOnlyExcept

# Copied here (migrations do not import live code): 0008's frozen columns, in force now.
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
    "filing_date",
    "filing_method",
)

_PDF_OF_REDACTED = (
    "(SELECT bill_to_name FROM billing_invoice WHERE id = OLD.invoice_id) LIKE 'Purged client %'"
)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_invoice_list_indexes"),
        ("core", "0009_audit_redaction"),
    ]

    operations = [
        InvoiceGuards(FROZEN_COLUMNS, redactable=True),
        AppendOnlyExcept(
            "billing_invoicepdf",
            delete={"sqlite": _PDF_OF_REDACTED, "postgresql": _PDF_OF_REDACTED},
        ),
    ]
