from django.db import migrations
from django.utils import timezone


def create_default_policy(apps, schema_editor):
    from caseledger.collections.services.policies import DEFAULT_STAGES

    Policy = apps.get_model("collections", "CollectionPolicy")
    Stage = apps.get_model("collections", "PolicyStage")
    if Policy.objects.filter(client_type="").exists():
        return
    policy = Policy.objects.create(
        name="Standard collections", client_type="", updated_at=timezone.now()
    )
    for stage in DEFAULT_STAGES:
        Stage.objects.create(
            policy=policy,
            code=stage.code,
            name=stage.name,
            days_from=stage.days_from,
            days_to=stage.days_to,
            subject=stage.subject,
            body=stage.body,
            send_email=stage.send_email,
            send_letter=stage.send_letter,
            open_task=stage.open_task,
            escalate_partner=stage.escalate_partner,
            set_hold=stage.set_hold,
        )


class Migration(migrations.Migration):
    dependencies = [("collections", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
