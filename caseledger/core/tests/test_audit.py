from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from caseledger.core import audit
from caseledger.core.models import AuditEvent


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
