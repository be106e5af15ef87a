import django.db.models.deletion
from django.db import migrations, models

from caseledger.core.migration_ops import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("matters", "0003_seed_case_types")]

    operations = [
        migrations.AlterField(
            model_name="matter",
            name="case_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="matters",
                to="matters.casetype",
            ),
        ),
        AppendOnly("matters_stageevent"),
    ]
