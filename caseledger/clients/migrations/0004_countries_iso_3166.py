"""Country fields hold ISO 3166 alpha-2 codes: map what older free-text values stand for (a code
in lower case, "UK", an English name) onto the code. Values that cannot be told are left as they
are: pages show them as stored and the edit form asks for a country."""

from django.db import migrations

FIELDS = {
    "Client": ("country", "passport_country", "country_of_citizenship"),
    "Beneficiary": ("passport_country", "country_of_citizenship"),
}


def to_iso(apps, schema_editor):
    from caseledger.clients.countries import country_code

    for model_name, fields in FIELDS.items():
        model = apps.get_model("clients", model_name)
        for row in model.objects.only("id", *fields).iterator():
            changes = {}
            for field in fields:
                value = getattr(row, field) or ""
                code = country_code(value)
                if code is not None and code != value:
                    changes[field] = code
            if changes:
                model.objects.filter(pk=row.pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_client_details_contacts_beneficiaries")]

    operations = [migrations.RunPython(to_iso, migrations.RunPython.noop)]
