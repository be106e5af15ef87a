"""Huey tasks: thin wrappers around the collections services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.collections.services import collections_run
from caseledger.collections.services.aging_facts import aging_buckets_roll
from caseledger.core import clock


@db_periodic_task(crontab(hour="6", minute="15"))
def collections_daily() -> None:
    """Every morning at 06:15 (server time): the run for today. Reruns change nothing."""
    collections_run(run_date=clock.firm_today(), now=clock.now())


@db_periodic_task(crontab())
def aging_buckets_roll_due() -> None:
    """Every minute: the aging buckets moved to the firm's today once its date has changed (one
    read otherwise), so today's aging report reads one row per client and matter within a
    minute of the firm's midnight or of the server's start (until then it sums the open rows:
    same cents, 0.3 s instead of 30 ms at a million invoices)."""
    aging_buckets_roll(clock.firm_today())
