"""An entry's audit event when the audit chain head moved after the entry's write read it.

On PostgreSQL ``entry_post``'s write statement reads the chain head (no lock) and the entry's
event is appended by one statement only if the head still holds that hash
(``audit.record(head_seen=...)``); when another event went in between, that statement writes
nothing and the event goes through the usual lock-then-append. Either way the event links to the
event before it and the chain verifies. SQLite has no such read: the lock-then-append always.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from caseledger.core import audit
from caseledger.core.models import AuditChainHead, AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger import hooks, selectors
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import EntryRequest, PostingLine, entries_post
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter

D = date(2026, 3, 1)


def _deposit_request(matter: Any, cents: int) -> EntryRequest:
    return EntryRequest(
        EntryKind.TRUST_DEPOSIT,
        D,
        "batch",
        [
            PostingLine(A.TRUST_BANK, cents, client=matter.client, matter=matter),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=matter.client, matter=matter),
        ],
    )


def _entry_event(entry: Any) -> AuditEvent:
    return AuditEvent.objects.get(action="ledger.entry_posted", object_id=str(entry.pk))


@pytest.mark.django_db
def test_an_event_recorded_between_the_write_and_the_audit_is_chained_before_the_entrys(now):
    matter = make_matter()
    H.deposit(matter=matter, cents=100, now=now, day=D)
    between: list[AuditEvent] = []

    def listener(*, entry: Any, rows: Any) -> None:
        # Runs after the entry's write statement read the head, before the entry's event.
        between.append(audit.record(actor=None, action="test.between", at=now, obj=entry))

    hooks.register_posting_listener(listener)
    try:
        with CaptureQueriesContext(connection) as ctx:
            entry = H.deposit(matter=matter, cents=200, now=now, day=D)
    finally:
        hooks.unregister_posting_listener(listener)

    event = _entry_event(entry)
    assert event.prev_hash == between[0].hash
    assert AuditChainHead.objects.get(id=1).last_hash == event.hash
    assert audit.verify_chain() is None
    assert selectors.ledger_verify() == []
    if connection.vendor == "postgresql":
        starts = [" ".join(q["sql"].split()[:4]) for q in ctx.captured_queries]
        tried = starts.index("WITH head AS (UPDATE")
        # The one-statement append found the head moved and wrote nothing; the fallback locked
        # the head and appended.
        assert starts[tried + 1 : tried + 3] == [
            "SELECT last_hash FROM core_auditchainhead",
            "WITH ev AS (INSERT",
        ]
        assert ctx.captured_queries[tried + 1]["sql"].endswith("FOR UPDATE")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_connection_moving_the_head_mid_entry_sends_the_event_through_the_fallback(
    require_postgres, now
):
    """Another transaction appends an event and commits after the entry's write read the head
    and before the entry's event: the conditional append sees the committed head (READ
    COMMITTED), writes nothing, and the fallback links the entry's event to the other one."""
    matter = make_matter()
    H.deposit(matter=matter, cents=100, now=now, day=D)
    other: list[AuditEvent] = []

    def elsewhere() -> None:
        try:
            with transaction.atomic():
                other.append(audit.record(actor=None, action="test.elsewhere", at=now))
        finally:
            connection.close()  # this thread's own connection

    def listener(*, entry: Any, rows: Any) -> None:
        # The entry's transaction holds its balance row locks, not the chain head: the other
        # writer is not blocked and commits before the entry's event is appended.
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the other writer waited on the entry's transaction"

    hooks.register_posting_listener(listener)
    try:
        entry = H.deposit(matter=matter, cents=200, now=now, day=D)
    finally:
        hooks.unregister_posting_listener(listener)

    event = _entry_event(entry)
    assert len(other) == 1
    assert event.prev_hash == other[0].hash
    assert AuditChainHead.objects.get(id=1).last_hash == event.hash
    assert audit.verify_chain() is None
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))  # no fork


@pytest.mark.django_db
def test_a_batchs_events_follow_an_event_recorded_by_a_listener(now):
    """entries_post records its events with record_many after the listeners (head locked once,
    events by COPY on PostgreSQL): an event a listener records goes first, and the chain holds."""
    matter = make_matter()
    between: list[AuditEvent] = []

    def listener(*, entry: Any, rows: Any) -> None:
        between.append(audit.record(actor=None, action="test.between", at=now, obj=entry))

    hooks.register_posting_listener(listener)
    try:
        ids = entries_post(
            entries=[_deposit_request(matter, 300), _deposit_request(matter, 400)],
            actor=None,
            now=now,
        )
    finally:
        hooks.unregister_posting_listener(listener)

    events = list(AuditEvent.objects.filter(action="ledger.entry_posted").order_by("id"))
    assert [e.object_id for e in events] == [str(i) for i in ids]
    assert events[0].prev_hash == between[-1].hash
    assert events[1].prev_hash == events[0].hash
    assert AuditChainHead.objects.get(id=1).last_hash == events[1].hash
    assert audit.verify_chain() is None
