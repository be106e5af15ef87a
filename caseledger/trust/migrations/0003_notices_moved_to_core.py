"""Trust receipts and request emails move to the one outbox (core.OutboxMessage): copy every
notice (sent ones as SENT, the rest PENDING, due now), then drop trust's own TrustNotice."""

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
    TrustNotice = apps.get_model("trust", "TrustNotice")
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    rows = []
    for n in TrustNotice.objects.order_by("id").iterator():
        if n.kind == "RECEIPT":
            key, kind, rtype, rid = (
                f"trust.receipt:{n.deposit_id}",
                "trust.receipt",
                "trust.trustdeposit",
                n.deposit_id,
            )
        else:
            key, kind, rtype, rid = (
                f"trust.request:{n.trust_request_id}",
                "trust.request",
                "trust.trustrequest",
                n.trust_request_id,
            )
        if n.sent_at is not None and not n.error:
            status = "SENT"
        elif not n.to_email:
            status = "DEAD"
        else:
            status = "PENDING"
        rows.append(
            OutboxMessage(
                key=key,
                kind=kind,
                to=[n.to_email] if n.to_email else [],
                subject=n.subject,
                body=n.body,
                message_id=_message_id(key),
                related_type=rtype,
                related_id=rid,
                status=status,
                attempts=1 if status == "SENT" else 0,
                next_attempt_at=n.created_at,
                sent_at=n.sent_at if status == "SENT" else None,
                last_error=n.error
                or ("to: the message has no address to send to" if status == "DEAD" else ""),
                created_at=n.created_at,
            )
        )
    OutboxMessage.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("trust", "0002_deposit_reversal"),
        ("core", "0005_outbox"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, migrations.RunPython.noop),
        migrations.DeleteModel(name="TrustNotice"),
    ]
