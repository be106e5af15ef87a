from django.db import migrations
from django.utils import timezone

# Copied from collections.services.policies.DEFAULT_STAGES when this migration was written
# (migrations do not import live code): the standard policy's three stages.
STAGES = [
    {
        "code": "friendly",
        "name": "Friendly reminder",
        "days_from": 7,
        "days_to": 29,
        "subject": "Reminder: invoice {invoice} is past due",
        "body": "Dear {client},\n"
        "\n"
        "This is a friendly reminder that invoice {invoice} for matter {matter} was due on "
        "{due_date}. The balance due is {balance}.\n"
        "\n"
        "If you have already paid, thank you, and please disregard this message.\n"
        "\n"
        "{firm}",
        "send_email": True,
        "send_letter": False,
        "open_task": False,
        "escalate_partner": False,
        "set_hold": False,
    },
    {
        "code": "formal",
        "name": "Formal notice",
        "days_from": 30,
        "days_to": 59,
        "subject": "Formal notice: invoice {invoice} is {days_past_due} days past due",
        "body": "Dear {client},\n"
        "\n"
        "Invoice {invoice} for matter {matter} is {days_past_due} days past due. The balance "
        "due is {balance}. Please pay it or contact us to agree a payment plan.\n"
        "\n"
        "{firm}",
        "send_email": True,
        "send_letter": True,
        "open_task": True,
        "escalate_partner": False,
        "set_hold": False,
    },
    {
        "code": "escalation",
        "name": "Partner escalation",
        "days_from": 60,
        "days_to": None,
        "subject": "Final notice: invoice {invoice} is {days_past_due} days past due",
        "body": "Dear {client},\n"
        "\n"
        "Invoice {invoice} for matter {matter} is {days_past_due} days past due (balance "
        "{balance}). Your responsible partner has been asked to review the matter, and new "
        "work on it is paused until the balance is settled.\n"
        "\n"
        "{firm}",
        "send_email": True,
        "send_letter": False,
        "open_task": True,
        "escalate_partner": True,
        "set_hold": True,
    },
]


def create_default_policy(apps, schema_editor):
    Policy = apps.get_model("collections", "CollectionPolicy")
    Stage = apps.get_model("collections", "PolicyStage")
    if Policy.objects.filter(client_type="").exists():
        return
    policy = Policy.objects.create(
        name="Standard collections", client_type="", updated_at=timezone.now()
    )
    for stage in STAGES:
        Stage.objects.create(policy=policy, **stage)


class Migration(migrations.Migration):
    dependencies = [("collections", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
