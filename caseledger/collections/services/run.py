"""The daily collections run: which reminder step each overdue invoice is due for, and doing it
exactly once. The run goes chunk by chunk: ``plan`` decides what is due (reads only),
``commit`` writes a chunk's reminders, tasks and holds in one transaction, ``aftercare`` sends
and tidies up after the commits.

Algorithm (per run date D):
1. Candidates: issued invoices due before D with a balance due (settlement rows), by id, in
   chunks. Days past due = D - due date. The client's policy (its client type's override, else the
   firm default) gives the one stage whose day range contains that number (stages never overlap).
2. Steps already taken are skipped: a Reminder row exists for (invoice, stage, channel).
3. Exclusions (policy switches): an open dispute; a payment plan in good standing; trust on the
   matter covering the balance. Excluded invoices get no row: they are looked at again next run.
4. A promise to pay still in force (made on or before D, promised date on or after D) defers the
   step (no row). A payment received, or a manual reminder recorded, since the last finished
   run (entry / activity dates in (previous run date, D]) suppresses the step: its rows are
   written with status SUPPRESSED, so the step is not taken later, and the next stage still
   comes when its window arrives.
5. Each chunk commits in one transaction: the Reminder rows (bulk insert, conflicts ignored: a
   concurrent run or an earlier, crashed run already took that step), then, for the rows this
   run inserted, the stage's actions grouped per matter (hold on new work: matters locked in id
   order and held in one batch; one collections task per matter and stage and one partner
   escalation task per matter, opened in one batch through the matters service, keyed so a
   matter's open task is never doubled) and one audit event listing the reminders, holds and
   tasks (the matters service adds one event per batch of holds and one per batch of tasks).
   Every read the decisions need is one query per chunk (reminders taken, disputes, plans,
   promises, manual reminders, payments, trust balances). Each email reminder's message is
   written to the outbox (core.outbox) in the same transaction, keyed by the reminder; after the
   commit the run sends the chunk's messages, each claimed on its own.
6. Holds whose matter has no overdue balance left are lifted; at-risk tags are refreshed; any
   reminder message still due (a crash between commit and delivery, or mid-send; a failure past
   its backoff) is sent, after recovering claims a dead sender left (collections.delivery).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from caseledger.collections import integration
from caseledger.collections.choices import RunStatus
from caseledger.collections.models import CollectionPolicy, CollectionRun
from caseledger.collections.services.aftercare import at_risk_refresh, lift_cleared_holds
from caseledger.collections.services.commit import commit_chunk
from caseledger.collections.services.delivery import reminders_deliver_pending
from caseledger.collections.services.plan import (
    Step,
    chunk_rows,
    plan_chunk,
    policies_load,
    previous_run_date,
)
from caseledger.collections.services.policies import policy_default_ensure
from caseledger.core import audit
from caseledger.core.selectors import firm_get

CHUNK = 500

STAT_KEYS = (
    "invoices",
    "scheduled",
    "already_done",
    "suppressed",
    "deferred",
    "excluded",
    "emails_sent",
    "letters",
    "tasks",
    "holds_set",
    "holds_lifted",
    "at_risk",
)


@dataclass
class RunResult:
    run: CollectionRun | None
    run_date: date
    steps: list[Step] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    # False when a dry run stopped early (``max_steps`` or ``max_invoices``): the steps are
    # the first ones, not all the run would take.
    complete: bool = True


def collections_run(
    *,
    run_date: date,
    now: datetime,
    dry_run: bool = False,
    after_chunk: Callable[[int], None] | None = None,
    deliver: bool = True,
    max_steps: int | None = None,
    max_invoices: int | None = None,
) -> RunResult:
    """Run collections for ``run_date``. With ``dry_run`` nothing is written and the result lists
    every step the run would take; for pages, ``max_steps`` stops listing after that many and
    ``max_invoices`` after checking that many open invoices (the work of a page then does not
    grow with the firm's receivables), and ``complete`` says whether it stopped early.
    ``after_chunk(n_invoices_done)`` is called after each committed chunk (progress reporting;
    tests use it to simulate a crash)."""
    if not dry_run:
        policy_default_ensure(now=now)
    policies, stages_by_policy = policies_load()
    default = policies.get("")
    prev = previous_run_date(run_date)
    run = None
    if not dry_run:
        run = CollectionRun.objects.create(
            run_date=run_date, status=RunStatus.RUNNING, started_at=now
        )
    result = RunResult(run=run, run_date=run_date)
    stats = dict.fromkeys(STAT_KEYS, 0)
    firm_name = firm_get().name
    done = 0
    try:
        limit = max_invoices if dry_run else None
        for scanned, chunk in _chunks(run_date, limit):
            if limit is not None and scanned >= limit:
                result.complete = False  # stops after this chunk: the preview's bound
            if not chunk:
                continue
            stats["invoices"] += len(chunk)
            steps = plan_chunk(
                chunk=chunk,
                run_date=run_date,
                prev=prev,
                policies=policies,
                default=default,
                stages_by_policy=stages_by_policy,
                firm_name=firm_name,
                stats=stats,
            )
            if run is None:
                result.steps.extend(s for s, _ in steps)
                if max_steps is not None and len(result.steps) >= max_steps:
                    result.complete = False
                    break
            else:
                commit_chunk(
                    steps=steps, run=run, run_date=run_date, now=now, stats=stats, deliver=deliver
                )
            done += len(chunk)
            if after_chunk is not None:
                after_chunk(done)
        if run is not None:
            _finish(
                run=run,
                run_date=run_date,
                now=now,
                stats=stats,
                policies=policies,
                default=default,
                deliver=deliver,
            )
    except BaseException as exc:
        if run is not None:
            CollectionRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=now, stats=stats, error=repr(exc)[:2000]
            )
        raise
    result.stats = stats
    return result


def _chunks(
    run_date: date, max_invoices: int | None = None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The overdue invoices' settlement rows, ``CHUNK`` open invoices at a time (a chunk may be
    empty: none of them overdue), each with the number of open invoices scanned so far; only
    the first ``max_invoices`` open invoices when given. Keyset over the settlement rows alone
    (bounded by the invoice-id index), then the chunk's rows with their joins by id: a single
    query with ``invoice_id > last`` let PostgreSQL merge-join the invoice table from its
    first row on every chunk."""
    last_id = 0
    scanned = 0
    while max_invoices is None or scanned < max_invoices:
        limit = CHUNK if max_invoices is None else min(CHUNK, max_invoices - scanned)
        ids = integration.open_settlement_ids(after=last_id, limit=limit)
        if not ids:
            return
        scanned += len(ids)
        last_id = ids[-1]
        yield scanned, chunk_rows(ids=ids, run_date=run_date)


def _finish(
    *,
    run: CollectionRun,
    run_date: date,
    now: datetime,
    stats: dict[str, int],
    policies: dict[str, CollectionPolicy],
    default: CollectionPolicy | None,
    deliver: bool,
) -> None:
    """After the last chunk: cleared holds lifted, at-risk tags refreshed, any reminder message
    still due sent, and the run marked finished with its stats (one audit event)."""
    lift_cleared_holds(run_date=run_date, now=now, stats=stats)
    stats["at_risk"] = at_risk_refresh(run_date=run_date, policies=policies, default=default)
    if deliver:
        stats["emails_sent"] += reminders_deliver_pending(now=now)
    CollectionRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FINISHED, finished_at=now, stats=stats
    )
    audit.record(
        actor=None,
        actor_label="collections run",
        action="collections.run_finished",
        at=now,
        obj=run,
        after=stats,
    )
    run.refresh_from_db()
