"""The change counts (``core.ChangeCount``, ``core.changes``) and, on PostgreSQL, the trigger
function the domains' triggers call: ``core_change_bump('<domain>')`` adds the row (domain, a
random weight from 1 to 2**40 - 1). SQLite's triggers insert the row themselves. The SQL is this
migration's own (frozen)."""

from django.db import migrations, models

PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION core_change_bump() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO core_changecount (domain, weight) "
    "VALUES (TG_ARGV[0], 1 + floor(random() * 1099511627775)::bigint); "
    "RETURN NULL; END; $$ LANGUAGE plpgsql;"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS core_change_bump();", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_audit_at_id_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("domain", models.CharField(max_length=40)),
                ("weight", models.BigIntegerField(default=1)),
            ],
            options={
                "indexes": [models.Index(fields=["domain"], name="core_changecount_domain_idx")],
            },
        ),
        migrations.RunPython(create, drop),
    ]
