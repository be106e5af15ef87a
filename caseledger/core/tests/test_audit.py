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
