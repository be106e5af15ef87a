"""Audit events carry the request id (issue 20): the X-Request-ID of the web request, or the
job run's id, that also stands in every JSON log line of it. Signed with the event when not
empty, so events recorded before keep verifying as they are."""

from django.db import migrations, models

from caseledger.core.migration_ops import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("core", "0007_audit_key_anchor_guards")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        # SQLite rebuilds the table to add a column, which drops its triggers: put them back.
        AppendOnly("core_auditevent"),
    ]
