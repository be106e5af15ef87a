"""The audit log lets the retention purge redact personal data in an event's payload: an UPDATE
of ``before``, ``after`` and ``object_repr`` only, and only once a later ``core.audit_redacted``
event names the event's hash (that event, signed like any other, records the hash of the
redacted content: core.audit.redact, verify_chain). Every other UPDATE and every DELETE is
still refused."""

from django.db import migrations

from caseledger.core.migration_ops import AppendOnlyExcept

# Copied here (migrations do not import live code): the columns that must stay as signed.
_KEPT = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "ip",
    "prev_hash",
    "hash",
    "key_id",
    "request_id",
)
_NAMED_SQLITE = (
    "EXISTS (SELECT 1 FROM core_auditevent r WHERE r.action = 'core.audit_redacted' "
    "AND r.id > OLD.id AND instr(r.after, OLD.hash) > 0)"
)
_NAMED_PG = (
    "EXISTS (SELECT 1 FROM core_auditevent r WHERE r.action = 'core.audit_redacted' "
    "AND r.id > OLD.id AND strpos(r.after::text, OLD.hash) > 0)"
)
REDACTION = {
    "sqlite": " AND ".join([*(f"OLD.{c} IS NEW.{c}" for c in _KEPT), _NAMED_SQLITE]),
    "postgresql": " AND ".join(
        [*(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in _KEPT), _NAMED_PG]
    ),
}


class Migration(migrations.Migration):
    dependencies = [("core", "0008_audit_request_id")]

    operations = [AppendOnlyExcept("core_auditevent", update=REDACTION)]
