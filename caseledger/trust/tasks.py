"""Scheduled trust jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock
from caseledger.trust import services


@db_periodic_task(crontab(hour="6", minute="0"))
def low_trust_sweep() -> int:
    """Daily: one open task (and, if chosen, a replenishment request) per matter below its
    trust minimum."""
    return services.low_balance_sweep(now=clock.now())


@db_periodic_task(crontab(hour="0", minute="15"))
def expire_disbursements() -> int:
    """Nightly: pending disbursement requests past their date expire (nothing moves)."""
    return services.disbursements_expire(now=clock.now())
