"""Many statement lines to one posting: ``LineMatch.posting`` is no longer one-to-one; a
posting split over several lines has parts 0..k-1, unique with the posting (a posting is still
claimed once: a concurrent claim loses on (posting, 0)). SQLite rebuilds the table to drop the
one-to-one index, which drops its triggers: the closed-month guards of 0004 are put back."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_guards = importlib.import_module("caseledger.banking.migrations.0004_reconciliation")


def guards_again(apps, schema_editor):
    _guards.guards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0005_reconciliation_settings"),
        ("ledger", "0004_posting_same_transaction_no_truncate"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="linematch",
            name="part",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="linematch",
            name="posting",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bank_matches",
                to="ledger.posting",
            ),
        ),
        migrations.AddIndex(
            model_name="linematch",
            index=models.Index(
                condition=models.Q(("part__gt", 0)), fields=["posting"], name="banking_match_split"
            ),
        ),
        migrations.AddConstraint(
            model_name="linematch",
            constraint=models.UniqueConstraint(
                fields=("posting", "part"), name="banking_match_posting_part_once"
            ),
        ),
        migrations.RunPython(guards_again, migrations.RunPython.noop),
    ]
