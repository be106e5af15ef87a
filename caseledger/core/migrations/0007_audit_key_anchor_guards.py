"""Keyed audit chain (issue 14): events carry the id of the HMAC key that signed them; every
existing event is re-signed (and re-chained) with the newest CASELEDGER_AUDIT_KEY; the chain
head row can be neither deleted nor truncated; TRUNCATE is refused on the events (PostgreSQL).

Re-keying rewrites ``hash``/``prev_hash`` of every event, once, with the append-only trigger
switched off for this migration's transaction only. Run ``migrate`` with the production
CASELEDGER_AUDIT_KEY set (docs/adr/002-hash-chained-audit-log.md). Unkeyed events are first
checked against their old SHA-256 chain: a chain that was already broken is not laundered into a
valid keyed one (the migration stops and names the first broken event).
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

from caseledger.core.migration_ops import AppendOnly, NoDelete, NoTruncate

GENESIS = "0" * 64


def _payload(event, prev):
    return {
        "prev": prev,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
    }


def _canonical(payload):
    return json.dumps(
        json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def rekey(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    if not AuditEvent.objects.filter(key_id="").exists():
        return
    key_id, key = next(iter(settings.AUDIT_KEYS.items()))
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        disable = ["ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"]
        enable = ["ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only"]
    else:
        disable = [
            "DROP TRIGGER IF EXISTS core_auditevent_no_update",
            "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
        ]
        enable = [
            "CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON "
            "core_auditevent BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: UPDATE "
            "refused'); END;",
            "CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON "
            "core_auditevent BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: DELETE "
            "refused'); END;",
        ]
    for sql in disable:
        schema_editor.execute(sql, params=None)
    old_prev = new_prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.key_id == "":
            old = hashlib.sha256(_canonical(_payload(event, old_prev))).hexdigest()
            if event.prev_hash != old_prev or event.hash != old:
                raise RuntimeError(
                    f"audit event {event.id}: the unkeyed chain is already broken here; "
                    "investigate before re-keying (manage.py verify_audit on the old release)"
                )
            old_prev = event.hash
        else:
            old_prev = event.hash
        payload = {"kid": key_id, **_payload(event, new_prev)}
        digest = hmac.new(key.encode(), _canonical(payload), hashlib.sha256).hexdigest()
        AuditEvent.objects.filter(id=event.id).update(
            prev_hash=new_prev, hash=digest, key_id=key_id
        )
        new_prev = digest
    AuditChainHead.objects.filter(id=1).update(last_hash=new_prev)
    for sql in enable:
        schema_editor.execute(sql, params=None)


def truncate_guard_existing(apps, schema_editor):
    """PostgreSQL: a no-truncate trigger on every table that already carries an append-only
    trigger (aging facts, stage events... installed before AppendOnly refused TRUNCATE too;
    fresh databases get it from AppendOnly itself)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from caseledger.core.migration_ops import no_truncate_create_sql

    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE %s ORDER BY c.relname",
            ["%\\_append\\_only"],
        )
        tables = [row[0] for row in cur.fetchall()]
    for table in tables:
        for sql in no_truncate_create_sql("postgresql", table):
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_firm_taxpayer_id")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.AddField(
            model_name="firm",
            name="audit_anchor_email",
            field=models.BooleanField(
                default=False,
                help_text="Email the daily signed head of the audit log to every partner.",
            ),
        ),
        # SQLite rebuilds the table to add a column, which drops its triggers: put them back.
        AppendOnly("core_auditevent"),
        NoTruncate("core_auditchainhead"),
        NoDelete("core_auditchainhead"),
        migrations.RunPython(rekey, migrations.RunPython.noop),
        migrations.RunPython(truncate_guard_existing, migrations.RunPython.noop),
    ]
