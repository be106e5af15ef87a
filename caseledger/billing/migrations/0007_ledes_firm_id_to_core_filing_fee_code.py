"""LEDES: LAW_FIRM_ID is the firm's taxpayer ID (core.Firm.taxpayer_id), no longer a billing
setting; government (filing) fees default to UTBMS E112 "Court fees" instead of E123 "Other
professionals"."""

import re

from django.db import migrations, models


def move_law_firm_id(apps, schema_editor):
    """Copy a billing LEDES law firm ID that is an EIN to the firm's taxpayer ID when the firm
    has none yet. Anything else (a placeholder such as CASELEDGER) is dropped: the export now
    refuses until the real taxpayer ID is set, instead of sending a made-up one."""
    settings_model = apps.get_model("billing", "BillingSettings")
    firm_model = apps.get_model("core", "Firm")
    row = settings_model.objects.filter(id=1).values("ledes_law_firm_id").first()
    digits = re.sub(r"[\s\-.]", "", (row or {}).get("ledes_law_firm_id") or "")
    if re.fullmatch(r"\d{9}", digits):
        firm_model.objects.filter(id=1, taxpayer_id="").update(
            taxpayer_id=f"{digits[:2]}-{digits[2:]}"
        )


def filing_fees_to_e112(apps, schema_editor):
    """Government fees on the old default E123 move to E112, and so do the government-fee lines
    of drafts (issued invoices are frozen as issued)."""
    fee_model = apps.get_model("billing", "GovernmentFee")
    fee_model.objects.filter(expense_code="E123").update(expense_code="E112")
    line_model = apps.get_model("billing", "InvoiceLine")
    line_model.objects.filter(
        kind="GOVERNMENT_FEE", utbms_expense_code="E123", invoice__status="DRAFT"
    ).update(utbms_expense_code="E112")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_outbox_moved_to_core"),
        ("core", "0006_firm_taxpayer_id"),
    ]

    operations = [
        migrations.RunPython(move_law_firm_id, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="billingsettings",
            name="ledes_law_firm_id",
        ),
        migrations.AlterField(
            model_name="governmentfee",
            name="expense_code",
            field=models.CharField(default="E112", max_length=8),
        ),
        migrations.RunPython(filing_fees_to_e112, migrations.RunPython.noop),
    ]
