"""The sales tax payable account billing credits when the firm charges tax (tax collected for
the state is a liability, never revenue). Added next to the ledger's seeded chart."""

from django.db import migrations

SALES_TAX_PAYABLE = "2300"


def add_account(apps, schema_editor):
    from django.utils import timezone

    Firm = apps.get_model("core", "Firm")
    Account = apps.get_model("ledger", "Account")
    AccountBalance = apps.get_model("ledger", "AccountBalance")
    firm, _ = Firm.objects.get_or_create(id=1)
    account, _ = Account.objects.get_or_create(
        code=SALES_TAX_PAYABLE,
        defaults={
            "name": "Sales tax payable",
            "account_type": "LIABILITY",
            "normal_balance": "CREDIT",
            "is_trust": False,
            "description": "Tax charged on invoices, owed to the taxing authority.",
            "currency": firm.currency,
            "created_at": timezone.now(),
        },
    )
    AccountBalance.objects.get_or_create(account=account)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_invoice_guards"),
        ("ledger", "0002_chart_and_guards"),
    ]

    operations = [migrations.RunPython(add_account, migrations.RunPython.noop)]
