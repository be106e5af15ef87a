"""The retention purge may redact an issued invoice's bill-to snapshot (name to the client's
pseudonym ``Purged client C-<id>``, no address, no email; nothing else of the invoice changes)
and delete its stored PDF once that is done (the PDF is then rendered from the redacted invoice,
amounts and number as issued)."""

from django.db import migrations

from caseledger.billing.db import INVOICE_FROZEN_COLUMNS, InvoiceGuards
from caseledger.core.db import AppendOnlyExcept

# Copied here (migrations do not import live code).
_PDF_OF_REDACTED = (
    "(SELECT bill_to_name FROM billing_invoice WHERE id = OLD.invoice_id) LIKE 'Purged client %'"
)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_invoice_list_indexes"),
        ("core", "0009_audit_redaction"),
    ]

    operations = [
        InvoiceGuards(
            columns=(*INVOICE_FROZEN_COLUMNS, "filing_date", "filing_method"), redactable=True
        ),
        AppendOnlyExcept(
            "billing_invoicepdf",
            delete={"sqlite": _PDF_OF_REDACTED, "postgresql": _PDF_OF_REDACTED},
        ),
    ]
