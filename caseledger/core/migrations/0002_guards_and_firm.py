from django.db import migrations

from caseledger.core.migration_ops import AppendOnly


def create_firm(apps, schema_editor):
    Firm = apps.get_model("core", "Firm")
    Firm.objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        AppendOnly("core_auditevent"),
        migrations.RunPython(create_firm, migrations.RunPython.noop),
    ]
