from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from caseledger.core import audit
from caseledger.core.models import AuditChainHead, AuditEvent


@pytest.mark.django_db
def test_events_chain_and_verify(users, now):
    admin = users["ADMIN"]
    first = audit.record(actor=admin, action="firm.updated", at=now, obj=admin, after={"a": 1})
    second = audit.record(actor=None, action="job.ran", at=now)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_update_and_delete_are_refused_by_the_database(users, now):
    event = audit.record(actor=users["ADMIN"], action="x.y", at=now)
    for sql in (
        "UPDATE core_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.id])
    assert AuditEvent.objects.get(id=event.id).action == "x.y"


def _tamper(sql: str, params: list) -> None:
    """Alter the audit table the way an attacker with database access would: drop the
    append-only trigger, change the row, put the trigger back."""
    from caseledger.core.migration_ops import append_only_create_sql, append_only_drop_sql

    vendor = connection.vendor
    with connection.cursor() as cur:
        for stmt in append_only_drop_sql(vendor, "core_auditevent"):
            cur.execute(stmt)
        cur.execute(sql, params)
        for stmt in append_only_create_sql(vendor, "core_auditevent"):
            cur.execute(stmt)


def _run_verify() -> tuple[int, str, str]:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_verify_audit_reports_ok_with_the_count(users, now):
    for i in range(3):
        audit.record(actor=users["ADMIN"], action=f"x.{i}", at=now)
    code, out, _ = _run_verify()
    assert code == 0
    assert out.strip() == "OK: 3 audit events, chain intact, no anchor yet"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "UPDATE core_auditevent SET after = '{\"amount_cents\": 1}' WHERE id = %s",
            "content was altered after it was recorded",
        ),
        (
            "UPDATE core_auditevent SET actor_label = 'someone-else' WHERE id = %s",
            "content was altered after it was recorded",
        ),
        ("DELETE FROM core_auditevent WHERE id = %s", "prev_hash does not match"),
    ],
)
def test_verify_audit_finds_the_first_altered_event(users, now, sql, reason):
    events = [
        audit.record(actor=users["ADMIN"], action="firm.updated", at=now, after={"amount_cents": i})
        for i in range(5)
    ]
    target = events[2]
    _tamper(sql, [target.id])
    code, _, err = _run_verify()
    assert code == 1
    expected_id = target.id if "DELETE" not in sql else events[3].id
    assert f"BROKEN at audit event {expected_id}: {reason}" in err


@pytest.mark.django_db
def test_verify_audit_finds_a_removed_last_event(users, now):
    events = [audit.record(actor=users["ADMIN"], action="a.b", at=now) for _ in range(3)]
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[-1].id])
    code, _, err = _run_verify()
    assert code == 1
    assert "events removed" in err


@pytest.mark.django_db
def test_recorded_diff_and_ip_survive_the_round_trip(users, now):
    from caseledger.core.context import current_ip

    token = current_ip.set("203.0.113.9")
    try:
        event = audit.record(
            actor=users["ADMIN"], action="firm.updated", at=now,
            before={"when": now.date()}, after={"n": 1},
        )  # fmt: skip
    finally:
        current_ip.reset(token)
    event = AuditEvent.objects.get(id=event.id)
    assert event.ip == "203.0.113.9"
    assert event.before == {"when": now.date().isoformat()}
    assert audit.verify_chain() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(require_postgres, make_user, now):
    """Writers in parallel threads, each in its own transaction: the chain-head lock orders
    them, so every event links to exactly one predecessor."""
    from concurrent.futures import ThreadPoolExecutor

    actor = make_user(role="ADMIN", username="racer")

    def write(i: int) -> None:
        try:
            with transaction.atomic():
                audit.record(actor=actor, action="race.write", at=now, after={"i": i})
        finally:
            connection.close()  # this thread's own connection, so the test DB can be dropped

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(64)))
    assert AuditEvent.objects.filter(action="race.write").count() == 64
    assert audit.verify_chain() is None
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))  # no fork: no two events share a predecessor


@pytest.mark.django_db
def test_record_many_appends_the_same_chain_in_one_insert(users, now):
    admin = users["ADMIN"]
    first = audit.record(actor=admin, action="x.first", at=now)
    events = audit.record_many(
        actor=admin,
        at=now,
        events=[audit.Pending("x.many", obj=admin, after={"i": i}) for i in range(3)],
    )
    assert [e.prev_hash for e in events] == [first.hash, events[0].hash, events[1].hash]
    stored = list(AuditEvent.objects.filter(action="x.many").order_by("id"))
    assert [e.hash for e in stored] == [e.hash for e in events]
    assert [e.after for e in stored] == [{"i": 0}, {"i": 1}, {"i": 2}]
    last = audit.record(actor=None, action="x.last", at=now)
    assert last.prev_hash == events[-1].hash
    assert audit.record_many(actor=admin, at=now, events=[]) == []
    assert audit.verify_chain() is None


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [" ".join(q["sql"].split()[:4]) for q in ctx.captured_queries]


@pytest.mark.django_db
def test_record_with_the_head_it_read_appends_in_one_statement(now):
    """``head_seen`` still the head's hash: on PostgreSQL the event is signed on it and appended
    with the head moved in ONE statement; elsewhere ``head_seen`` is not used."""
    first = audit.record(actor=None, action="x.first", at=now)
    with CaptureQueriesContext(connection) as ctx:
        second = audit.record(actor=None, action="x.second", at=now, head_seen=first.hash)
    assert second.prev_hash == first.hash
    assert AuditEvent.objects.get(pk=second.pk).hash == second.hash
    assert AuditChainHead.objects.get(id=1).last_hash == second.hash
    assert audit.verify_chain() is None
    if connection.vendor == "postgresql":
        assert _statements(ctx) == ["WITH head AS (UPDATE"]


@pytest.mark.django_db
def test_record_with_a_stale_head_seen_falls_back_and_the_chain_holds(now):
    """``head_seen`` read before another event went in: the one-statement append finds the head
    moved and writes nothing, then the event is appended as without ``head_seen`` (head locked),
    linked to the real last event. Recorded once, and the chain verifies."""
    first = audit.record(actor=None, action="x.first", at=now)
    second = audit.record(actor=None, action="x.second", at=now)
    with CaptureQueriesContext(connection) as ctx:
        third = audit.record(actor=None, action="x.third", at=now, head_seen=first.hash)
    assert third.prev_hash == second.hash
    stored = AuditEvent.objects.get(action="x.third")
    assert (stored.pk, stored.prev_hash, stored.hash) == (third.pk, second.hash, third.hash)
    assert AuditChainHead.objects.get(id=1).last_hash == third.hash
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "x.first",
        "x.second",
        "x.third",
    ]
    assert audit.verify_chain() is None
    assert _run_verify()[0] == 0
    if connection.vendor == "postgresql":
        assert _statements(ctx) == [
            "WITH head AS (UPDATE",  # wrote nothing: the head holds second.hash
            "SELECT last_hash FROM core_auditchainhead",  # ... FOR UPDATE
            "WITH ev AS (INSERT",
        ]
        assert ctx.captured_queries[1]["sql"].endswith("FOR UPDATE")


@pytest.mark.django_db
def test_record_with_head_seen_before_the_chain_has_a_head_starts_it(now):
    """No head row yet (no event ever): the conditional append matches no row, and the
    fallback creates the head with the genesis hash and appends the first event."""
    assert not AuditChainHead.objects.exists()
    event = audit.record(actor=None, action="x.first", at=now, head_seen=audit.GENESIS_HASH)
    assert event.prev_hash == audit.GENESIS_HASH
    assert AuditChainHead.objects.get(id=1).last_hash == event.hash
    assert AuditEvent.objects.count() == 1
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_redaction_keeps_the_chain_verifiable_and_nothing_else_may_change(users, now):
    admin = users["ADMIN"]
    kept = audit.record(actor=admin, action="x.kept", at=now, after={"name": "Jane Roe"})
    event = audit.record(actor=admin, action="x.personal", at=now, after={"name": "Jane Roe"})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={"name": "[redacted]"})

    def scrub(e, value):
        return {"name": audit.REDACTED} if isinstance(value, dict) else value

    marker = audit.redact(events=[event], scrub=scrub, actor=admin, at=now, reason="test")
    assert marker is not None
    assert marker.after["events"][0][:2] == [event.pk, event.hash]
    assert AuditEvent.objects.get(pk=event.pk).after == {"name": "[redacted]"}
    assert AuditEvent.objects.get(pk=kept.pk).after == {"name": "Jane Roe"}
    assert audit.verify_chain() is None
    # Named by a redaction event, the row still refuses any other change.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=kept.pk).update(after={})
    # Changed again after its redaction: the content no longer verifies.
    AuditEvent.objects.filter(pk=event.pk).update(after={"name": "Someone else"})
    broken = audit.verify_chain()
    assert broken is not None
    assert broken.event_id == event.pk
    assert audit.redact(events=[], scrub=scrub, actor=admin, at=now, reason="none") is None
