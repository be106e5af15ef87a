"""Scheduled core jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock
from caseledger.core.anchors import audit_anchor


@db_periodic_task(crontab(hour="0", minute="5"))
def audit_anchor_daily() -> str:
    """Daily: sign the audit chain's head and keep it outside the database (core.anchors)."""
    return str(audit_anchor(now=clock.now())["hash"])
