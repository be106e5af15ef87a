"""Invoice emails move to the one outbox (core.OutboxMessage): copy every row, then drop
billing's own EmailOutbox. A row left SENDING (unknown whether it left) becomes FAILED, due now;
it carries the key's Message-ID, so a copy that did leave is recognisable."""

import hashlib
import re

from django.conf import settings
from django.db import migrations

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
    EmailOutbox = apps.get_model("billing", "EmailOutbox")
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    rows = []
    for e in EmailOutbox.objects.order_by("id").iterator():
        key = f"billing.invoice:{e.invoice_id}:issued"
        status = "FAILED" if e.status == "SENDING" else e.status
        rows.append(
            OutboxMessage(
                key=key,
                kind="billing.invoice_issued",
                to=[e.to_email] if e.to_email else [],
                subject=e.subject,
                body=e.body,
                attachments=[
                    {"renderer": "billing.invoice_pdf", "args": {"invoice_id": e.invoice_id}}
                ],
                message_id=_message_id(key),
                related_type="billing.invoice",
                related_id=e.invoice_id,
                status=status,
                attempts=e.attempts,
                next_attempt_at=e.next_attempt_at,
                sent_at=e.sent_at,
                last_error=e.last_error,
                created_at=e.created_at,
            )
        )
    OutboxMessage.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_template_active"),
        ("core", "0005_outbox"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, migrations.RunPython.noop),
        migrations.DeleteModel(name="EmailOutbox"),
    ]
