"""Every row lock of the imports app. Imports run outside the money lock order's hot paths: a job
or cutover row is locked on its own (the postings a run makes then take the ledger's locks;
finalizing a cutover takes the trust bank account's row, through banking's services, before
them, in banking's order); a purge takes its matter's lock (matters.locks) before anything of
the matter."""

from __future__ import annotations

from caseledger.imports.choices import CutoverStatus
from caseledger.imports.models import (
    Cutover,
    ImportJob,
    LegacyHistoryAdjustment,
    LegacyHistoryPayment,
    LegacyInvoice,
    LegalHold,
    OpeningBalance,
    ParallelRun,
    RetentionSettings,
)


def job_lock(*, job_id: int) -> ImportJob:
    """The job row, locked, without the uploaded file (``content``, loaded only if read): every
    committed batch locks it, and re-reading a file of tens of MB per batch of 200 records made
    the commit's time grow with the square of the file."""
    return ImportJob.objects.select_for_update().defer("content").get(pk=job_id)


def legacy_invoice_lock(*, invoice_id: int) -> LegacyInvoice:
    """An imported invoice, its client and matter loaded in the same query."""
    return (
        LegacyInvoice.objects.select_for_update()
        .select_related("client", "matter")
        .get(pk=invoice_id)
    )


def history_payment_lock(*, payment_id: int) -> LegacyHistoryPayment:
    return LegacyHistoryPayment.objects.select_for_update().get(pk=payment_id)


def history_adjustment_lock(*, adjustment_id: int) -> LegacyHistoryAdjustment:
    return LegacyHistoryAdjustment.objects.select_for_update().get(pk=adjustment_id)


def opening_balance_lock(*, balance_id: int) -> OpeningBalance:
    return OpeningBalance.objects.select_for_update().get(pk=balance_id)


def cutover_lock(*, cutover_id: int) -> Cutover:
    return Cutover.objects.select_for_update().get(pk=cutover_id)


def draft_cutover_lock() -> Cutover | None:
    """The cutover being prepared, if any (at most one is a draft)."""
    return Cutover.objects.select_for_update().filter(status=CutoverStatus.DRAFT).first()


def retention_settings_lock() -> RetentionSettings | None:
    """The retention settings row, or None before anyone saved them."""
    return RetentionSettings.objects.select_for_update().order_by("id").first()


def legal_hold_lock(*, hold_id: int) -> LegalHold:
    return LegalHold.objects.select_for_update().get(pk=hold_id)


def parallel_run_lock(*, run_id: int) -> ParallelRun:
    return ParallelRun.objects.select_for_update().get(pk=run_id)
