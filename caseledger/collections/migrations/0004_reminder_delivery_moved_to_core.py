"""Reminder email delivery moves to the one outbox (core.OutboxMessage): every email reminder
gets its outbox message (SENT ones as SENT; QUEUED, FAILED and SENDING ones PENDING and due now,
a SENDING one with the same Message-ID as any copy that left), then the reminder's own delivery
fields (attempts, last_error, claim) and the SENDING status go."""

import hashlib
import re

from django.conf import settings
from django.db import migrations, models

_UNSAFE = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def _message_id(key):
    # A copy of core.outbox.message_id_for (migrations do not import live code).
    from urllib.parse import urlparse

    domain = getattr(settings, "OUTBOX_MESSAGE_ID_DOMAIN", "") or (
        urlparse(getattr(settings, "SITE_URL", "") or "").hostname or "caseledger.host"
    )
    readable = _UNSAFE.sub(".", key).strip(".")[:120] or "message"
    return f"<{readable}.{hashlib.sha256(key.encode()).hexdigest()[:12]}@{domain}>"


def copy_to_core(apps, schema_editor):
    Reminder = apps.get_model("collections", "Reminder")
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    emails = Reminder.objects.filter(
        channel="EMAIL", status__in=["QUEUED", "SENDING", "SENT", "FAILED"]
    ).order_by("id")
    rows = []
    for r in emails.iterator():
        key = f"collections.reminder:{r.pk}"
        sent = r.status == "SENT"
        rows.append(
            OutboxMessage(
                key=key,
                kind="collections.reminder",
                to=[r.to_email] if r.to_email else [],
                subject=r.subject,
                body=r.body,
                message_id=_message_id(key),
                related_type="collections.reminder",
                related_id=r.pk,
                status="SENT" if sent else ("PENDING" if r.to_email else "DEAD"),
                attempts=r.attempts,
                next_attempt_at=r.created_at,
                sent_at=r.sent_at if sent else None,
                last_error=r.last_error,
                created_at=r.created_at,
            )
        )
    OutboxMessage.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    # The reminder's status follows its message from now on.
    Reminder.objects.filter(channel="EMAIL", status__in=["SENDING", "FAILED"]).exclude(
        to_email=""
    ).update(status="QUEUED")


class Migration(migrations.Migration):
    dependencies = [
        ("collections", "0003_ar_aging_facts"),
        ("core", "0005_outbox"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, migrations.RunPython.noop),
        migrations.RemoveField(model_name="reminder", name="attempts"),
        migrations.RemoveField(model_name="reminder", name="claim"),
        migrations.RemoveField(model_name="reminder", name="last_error"),
        migrations.AlterField(
            model_name="reminder",
            name="status",
            field=models.CharField(
                choices=[
                    ("QUEUED", "Queued"),
                    ("SENT", "Sent"),
                    ("FAILED", "Failed (gave up; see the outbox)"),
                    ("LETTER_READY", "Letter ready to print"),
                    ("DONE", "Done"),
                    ("SUPPRESSED", "Suppressed"),
                ],
                max_length=14,
            ),
        ),
    ]
