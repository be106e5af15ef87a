"""Scheduled payments jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock
from caseledger.payments import refunds, tally


@db_periodic_task(crontab(minute="*"))
def retry_card_refunds() -> int:
    """Every minute: card refunds still REQUESTED a minute after they were sent (the process
    died, the processor did not answer) go to the processor again with the same idempotency
    key, and their outcome is recorded."""
    return refunds.card_refunds_retry(now=clock.now())


@db_periodic_task(crontab(minute="*/5"))
def invoice_tally_compact_job() -> int:
    """Every five minutes: the invoice tally's delta rows folded into one row per key, so the
    invoice list's totals read a few rows however busy the firm was (``tally``)."""
    return tally.invoice_tally_compact()
