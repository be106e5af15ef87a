"""The one call every write uses to record its audit event: ``audit.record(...)``.

Events form a keyed hash chain: each stores the previous event's hash and an HMAC-SHA256 over
its own canonical content plus that previous hash, with the newest key of
``settings.AUDIT_KEYS`` (CASELEDGER_AUDIT_KEY); the key's id is stored with the event so events
signed before a rotation verify with the older key. Without the key nobody can append or
recompute an event that verifies. Appending locks the chain head row, so events chain in commit
order on PostgreSQL; on SQLite the IMMEDIATE transaction already serializes writers. The head is
anchored outside the database every day (``core.anchors``), so dropping or rewriting the tail
with the key is found as well (docs/adr/002-hash-chained-audit-log.md).

The retention purge may redact personal data in old events' payloads (``redact``): a signed
``core.audit_redacted`` event records each changed event's original hash and the HMAC of its
redacted content, and ``verify_chain`` accepts exactly that content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from caseledger.core import bulk, locks
from caseledger.core.context import current_ip, current_request_id
from caseledger.core.models import AuditChainHead, AuditEvent, User

GENESIS_HASH = "0" * 64


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what is hashed is exactly what the JSONField stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def signing_key() -> tuple[str, bytes]:
    """(key id, key) of the newest audit key: the one new events are signed with."""
    keys: dict[str, str] = getattr(settings, "AUDIT_KEYS", {}) or {}
    if not keys:
        raise ImproperlyConfigured("CASELEDGER_AUDIT_KEY: no audit key configured")
    key_id, key = next(iter(keys.items()))
    return key_id, key.encode()


def key_for(key_id: str) -> bytes | None:
    """The configured key with id ``key_id`` (None: not configured, or the legacy '')."""
    keys: dict[str, str] = getattr(settings, "AUDIT_KEYS", {}) or {}
    key = keys.get(key_id) if key_id else None
    return key.encode() if key is not None else None


def event_hash(
    *,
    key: bytes,
    key_id: str,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
    ip: str | None,
    request_id: str = "",
) -> str:
    payload: dict[str, Any] = {
        "kid": key_id,
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": before,
        "after": after,
        "ip": ip,
    }
    if request_id:
        # Only when present: events signed before the field existed keep their exact payload.
        payload["rid"] = request_id
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _describe(obj: models.Model | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk), str(obj)[:200]


def record(
    *,
    actor: User | None,
    action: str,
    at: datetime,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
    head_seen: str | None = None,
) -> AuditEvent:
    """Append one event to the audit chain inside the caller's transaction.

    ``actor`` None means the system (a scheduled job or a migration); ``actor_label`` then says
    which. ``before``/``after`` are the changed fields only. Raises nothing of its own; a failure
    to write rolls back the caller's whole transaction, so no write goes unrecorded.

    ``head_seen``: the chain head's hash as the caller read it (without a lock, ``HEAD_READ``)
    earlier in this transaction, after taking every other row lock it needs. On PostgreSQL the
    event is then signed on it and appended with ONE statement that moves the head only if it
    still holds that hash (the UPDATE locks the head row, as ``audit_chain_head_lock`` would)
    and inserts the event only if the head moved; if another writer moved the head in between,
    nothing is written and the event is appended as without ``head_seen``. One round trip
    instead of two, the same chain.
    """
    label = actor_label or (actor.get_username() if actor is not None else "system")
    ip = ip if ip is not None else current_ip.get()
    # Store at microsecond precision in UTC: what the database returns is what was hashed.
    at = at.astimezone(UTC)
    # Inside a caller's transaction no savepoint is needed: a failure here must roll the whole
    # write back anyway (two round trips saved on every audited write).
    key_id, key = signing_key()
    pending = Pending(action, obj, before, after)
    request_id = current_request_id.get()
    with transaction.atomic(savepoint=False):
        if head_seen is not None and connection.vendor == "postgresql":
            event = _signed(
                pending,
                key_id=key_id,
                key=key,
                prev_hash=head_seen,
                at=at,
                actor=actor,
                label=label,
                ip=ip,
                request_id=request_id,
            )
            if _append_if_head(event):
                return event
        event = _signed(
            pending,
            key_id=key_id,
            key=key,
            prev_hash=locks.audit_chain_head_lock(genesis=GENESIS_HASH),
            at=at,
            actor=actor,
            label=label,
            ip=ip,
            request_id=request_id,
        )
        _append(event)
    return event


@dataclass(frozen=True)
class Pending:
    """One event for ``record_many``: what ``record`` takes besides actor, time and ip."""

    action: str
    obj: models.Model | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _signed(
    pending: Pending,
    *,
    key_id: str,
    key: bytes,
    prev_hash: str,
    at: datetime,
    actor: User | None,
    label: str,
    ip: str | None,
    request_id: str,
) -> AuditEvent:
    """The unsaved event for ``pending``, linked to ``prev_hash`` and signed over its content."""
    object_type, object_id, object_repr = _describe(pending.obj)
    before_json = _jsonable(pending.before)
    after_json = _jsonable(pending.after)
    event = AuditEvent(
        at=at,
        actor=actor,
        actor_label=label,
        action=pending.action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before_json,
        after=after_json,
        ip=ip,
        prev_hash=prev_hash,
        key_id=key_id,
        request_id=request_id,
    )
    event.hash = _stored_hash(event, key_id, key)
    return event


def record_many(
    *,
    actor: User | None,
    at: datetime,
    events: list[Pending],
    ip: str | None = None,
    actor_label: str | None = None,
) -> list[AuditEvent]:
    """Append ``events`` to the chain, in order, inside the caller's transaction: the same
    events ``record`` would append one by one (each signed over its own content and the
    previous event's hash), but the head is locked and moved once and the rows go in with one
    COPY on PostgreSQL (one multi-row INSERT per 500 elsewhere). For bulk writers (imports,
    ``ledger.entries_post``), whose rows are inserted the same way.

    The values every event shares (time, actor, ip, key id, request id) are prepared for the
    database once, and each event's own values go in as a row (``bulk.insert_rows``), not as a
    model instance whose every field is prepared again; the events returned are built from the
    same values.
    """
    if not events:
        return []
    label = actor_label or (actor.get_username() if actor is not None else "system")
    ip = ip if ip is not None else current_ip.get()
    request_id = current_request_id.get()
    at = at.astimezone(UTC)
    key_id, key = signing_key()
    actor_id = actor.pk if actor is not None else None
    rows: list[tuple[Any, ...]] = []
    with transaction.atomic(savepoint=False):
        prev_hash = locks.audit_chain_head_lock(genesis=GENESIS_HASH)
        for pending in events:
            object_type, object_id, object_repr = _describe(pending.obj)
            before, after = _jsonable(pending.before), _jsonable(pending.after)
            digest = event_hash(
                key=key,
                key_id=key_id,
                prev_hash=prev_hash,
                at=at,
                actor_id=actor_id,
                actor_label=label,
                action=pending.action,
                object_type=object_type,
                object_id=object_id,
                object_repr=object_repr,
                before=before,
                after=after,
                ip=ip,
                request_id=request_id,
            )
            rows.append(
                (pending.action, object_type, object_id, object_repr, before, after, prev_hash,
                 digest)
            )  # fmt: skip
            prev_hash = digest
        # Ids follow list order (the chain order verify walks), and no other writer can append
        # in between while the head row is locked.
        ids = bulk.insert_rows(
            AuditEvent,
            _MANY_COLUMNS,
            rows,
            constants={
                "at": at,
                "actor": actor,
                "actor_label": label,
                "ip": ip,
                "key_id": key_id,
                "request_id": request_id,
            },
            ids=True,
            prepare=("before", "after"),
        )
        with connection.cursor() as cur:
            cur.execute(_HEAD_UPDATE, [prev_hash])
    shared = {
        "at": at,
        "actor_id": actor_id,
        "actor_label": label,
        "ip": ip,
        "key_id": key_id,
        "request_id": request_id,
    }
    out = []
    alias = connection.alias  # once: each use of the proxy looks the connection up
    for event_id, row in zip(ids, rows, strict=True):
        values = {"id": event_id, **shared, **dict(zip(_MANY_COLUMNS, row, strict=True))}
        event = AuditEvent.from_db(alias, _EVENT_ATTNAMES, [values[n] for n in _EVENT_ATTNAMES])
        if actor is not None:
            _ACTOR_FIELD.set_cached_value(event, actor)
        out.append(event)
    return out


# record_many's per-event columns; every other column is the same for all its events.
_MANY_COLUMNS = (
    "action", "object_type", "object_id", "object_repr", "before", "after", "prev_hash", "hash"
)  # fmt: skip
_EVENT_ATTNAMES = [f.attname for f in AuditEvent._meta.concrete_fields]
_ACTOR_FIELD = AuditEvent._meta.get_field("actor")


_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_EVENT_INSERT = "INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id".format(
    table=AuditEvent._meta.db_table,
    columns=", ".join(str(f.column) for f in _EVENT_FIELDS),
    marks=", ".join(["%s"] * len(_EVENT_FIELDS)),
)
_HEAD_UPDATE = f"UPDATE {AuditChainHead._meta.db_table} SET last_hash = %s WHERE id = 1"


# The head's hash read without a lock, for ``record(head_seen=...)``: NULL before the first event.
HEAD_READ = f"SELECT last_hash FROM {AuditChainHead._meta.db_table} WHERE id = 1"
_APPEND_IF_HEAD = (
    "WITH head AS ({update} AND last_hash = %s RETURNING id) "
    "INSERT INTO {table} ({columns}) SELECT {casts} FROM head RETURNING id"
)


_append_if_head_sql: str | None = None  # built on first use (PostgreSQL only)


def _append_if_head(event: AuditEvent) -> bool:
    """PostgreSQL: move the head from ``event.prev_hash`` to ``event.hash`` and insert
    ``event``, in one statement, only if the head still holds ``event.prev_hash``. Returns
    whether it did; when not, nothing was written or locked."""
    global _append_if_head_sql
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _EVENT_FIELDS]
    if _append_if_head_sql is None:
        _append_if_head_sql = _APPEND_IF_HEAD.format(
            update=_HEAD_UPDATE,
            table=AuditEvent._meta.db_table,
            columns=", ".join(str(f.column) for f in _EVENT_FIELDS),
            # Typed, as VALUES would type them from the columns (SELECT leaves NULL as text).
            casts=", ".join(f"%s::{f.cast_db_type(connection)}" for f in _EVENT_FIELDS),
        )
    with connection.cursor() as cur:
        cur.execute(_append_if_head_sql, [event.hash, event.prev_hash, *params])
        row = cur.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias
    return True


def _append(event: AuditEvent) -> None:
    """Insert ``event`` and move the chain head to its hash: on PostgreSQL one statement (a
    data-modifying CTE), elsewhere two. Values are prepared by the model fields, as the ORM
    would."""
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _EVENT_FIELDS]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"WITH ev AS ({_EVENT_INSERT}), head AS ({_HEAD_UPDATE}) SELECT id FROM ev",
                [*params, event.hash],
            )
            event.pk = cur.fetchone()[0]
        else:
            cur.execute(_EVENT_INSERT, params)
            event.pk = cur.fetchone()[0]
            cur.execute(_HEAD_UPDATE, [event.hash])
    event._state.adding = False
    event._state.db = connection.alias


REDACTED = "[redacted]"
REDACTION_ACTION = "core.audit_redacted"


def _stored_hash(event: AuditEvent, key_id: str, key: bytes) -> str:
    """The HMAC under ``key`` of ``event``'s content as it stands (as written, or redacted),
    linked as the event is."""
    return event_hash(
        key=key,
        key_id=key_id,
        prev_hash=event.prev_hash,
        at=event.at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        before=event.before,
        after=event.after,
        ip=event.ip,
        request_id=event.request_id,
    )


def redact(
    *,
    events: list[AuditEvent],
    scrub: Callable[[AuditEvent, Any], Any],
    actor: User | None,
    at: datetime,
    reason: str,
) -> AuditEvent | None:
    """Replace personal data in the payload (``before``, ``after``, ``object_repr``) of
    ``events`` with ``scrub(event, value) -> value`` (the caller's redaction, e.g. names to
    ``REDACTED``), inside the caller's transaction, keeping the chain verifiable: the hash and
    links of each event stay as signed, and one ``core.audit_redacted`` event, appended first and
    signed like any other, names each changed event by id and original hash with the HMAC of its
    redacted content. ``verify_chain`` accepts a redacted event against that HMAC; the database
    refuses the UPDATE of an event no later redaction event names (core migration 0009).
    Returns the redaction event (None: nothing to change). ``reason`` must hold no personal
    data."""
    key_id, key = signing_key()
    changed: list[AuditEvent] = []
    for event in events:
        before, after = scrub(event, event.before), scrub(event, event.after)
        object_repr = scrub(event, event.object_repr)
        if (before, after, object_repr) == (event.before, event.after, event.object_repr):
            continue
        event.before, event.after = _jsonable(before), _jsonable(after)
        event.object_repr = str(object_repr)[:200]
        changed.append(event)
    if not changed:
        return None
    with transaction.atomic(savepoint=False):
        marker = record(
            actor=actor,
            action=REDACTION_ACTION,
            at=at,
            after={
                "reason": reason,
                "kid": key_id,
                "events": [[e.pk, e.hash, _stored_hash(e, key_id, key)] for e in changed],
            },
        )
        for event in changed:
            AuditEvent.objects.filter(pk=event.pk).update(
                before=event.before, after=event.after, object_repr=event.object_repr
            )
    return marker


def _redactions() -> dict[int, tuple[int, str, str, str]]:
    """{event id: (redaction event id, original hash, redacted HMAC, key id)}, the latest
    redaction of each event winning."""
    out: dict[int, tuple[int, str, str, str]] = {}
    for rid, after in (
        AuditEvent.objects.filter(action=REDACTION_ACTION).order_by("id").values_list("id", "after")
    ):
        after = after or {}
        for event_id, original, redacted in after.get("events") or []:
            out[int(event_id)] = (rid, str(original), str(redacted), str(after.get("kid") or ""))
    return out


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch_size: int = 2000) -> ChainBreak | None:
    """Walk the chain in id order; return the first event whose links or content do not match."""
    prev = GENESIS_HASH
    last_id = 0
    redactions = _redactions()
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.prev_hash != prev:
                return ChainBreak(event.id, "prev_hash does not match the previous event's hash")
            key = key_for(event.key_id)
            if key is None:
                return ChainBreak(
                    event.id,
                    f"signed with audit key id {event.key_id!r}, which is not in "
                    "CASELEDGER_AUDIT_KEY (unkeyed, forged, or its key was removed)"
                    if event.key_id
                    else "unkeyed (no audit key id): forged, or the re-key migration never ran",
                )
            expected = _stored_hash(event, event.key_id, key)
            if expected != event.hash and not _redaction_holds(event, redactions.get(event.id)):
                return ChainBreak(event.id, "content was altered after it was recorded")
            prev = event.hash
            last_id = event.id
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != prev:
        return ChainBreak(last_id, "chain head does not match the last event (events removed)")
    return None


def _redaction_holds(event: AuditEvent, redaction: tuple[int, str, str, str] | None) -> bool:
    """Whether ``event``'s content is the redaction a later, signed redaction event recorded
    (that event itself is checked when the walk reaches it)."""
    if redaction is None:
        return False
    rid, original, redacted, key_id = redaction
    key = key_for(key_id)
    if rid <= event.id or original != event.hash or key is None:
        return False
    return hmac.compare_digest(_stored_hash(event, key_id, key), redacted)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed keys only, as (before, after) for ``record``."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
