"""Scheduled core jobs: thin wrappers that pass the clock to a service (the outbox, the
audit chain's daily anchor, the change counts' compaction)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caseledger.core import clock, outbox
from caseledger.core.anchors import audit_anchor
from caseledger.core.changes import change_counts_compact


@db_task(retries=3, retry_delay=30)
def outbox_send_task(message_ids: list[int]) -> int:
    """Send messages just enqueued (handed over by ``transaction.on_commit``). A retry of this
    task sends only what is still due: each message is claimed before it is sent."""
    return outbox.messages_send(ids=message_ids, now=clock.now(), clock=clock.now)


@db_periodic_task(crontab(minute="*"))
def outbox_tick_task() -> dict[str, int]:
    """Every minute: recover claims a dead sender left SENDING, then send what is due (new
    messages the queue missed, failed ones past their backoff)."""
    return outbox.outbox_tick(now=clock.now(), clock=clock.now)


@db_periodic_task(crontab(hour="0", minute="5"))
def audit_anchor_daily() -> str:
    """Daily: sign the audit chain's head and keep it outside the database (core.anchors)."""
    return str(audit_anchor(now=clock.now())["hash"])


@db_periodic_task(crontab(minute="*/5"))
def change_counts_compact_job() -> int:
    """Every five minutes: fold the change rows the triggers added into one row per domain
    (core.changes), so reading a count stays one short sum."""
    return change_counts_compact()
