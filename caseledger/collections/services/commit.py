"""The writes of one chunk of a collections run, in one transaction: its Reminder rows (a step
another run already took is skipped by the unique key), the stage actions of the rows this run
inserted (holds on new work, collections and partner tasks, grouped per matter), one audit event,
and the reminder emails written to the outbox (sent after the commit: ``aftercare``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from caseledger.collections import integration
from caseledger.collections.choices import Channel, HoldStatus, ReminderStatus
from caseledger.collections.models import CollectionHold, CollectionRun, PolicyStage, Reminder
from caseledger.collections.services.aftercare import deliver_after_commit
from caseledger.collections.services.delivery import reminder_messages
from caseledger.collections.services.plan import Step
from caseledger.core import audit, outbox
from caseledger.core.amounts import firm_money


@dataclass(frozen=True)
class _Taken:
    """A Reminder row this run inserted (what the stage actions and the audit event need)."""

    pk: int
    invoice_id: int
    stage: PolicyStage
    channel: str
    status: str
    days_past_due: int
    balance_cents: int


def commit_chunk(
    *,
    steps: list[tuple[Step, list[Reminder]]],
    run: CollectionRun,
    run_date: date,
    now: datetime,
    stats: dict[str, int],
    deliver: bool,
) -> None:
    rows = [r for _, reminders in steps for r in reminders]
    if not rows:
        return
    for r in rows:
        r.run = run
        r.created_at = now
    from caseledger.billing.models import Invoice

    with transaction.atomic():
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        ours = _taken(rows=rows, run=run)
        if not ours:
            return
        invoices = Invoice.objects.select_related("matter").in_bulk({r.invoice_id for r in ours})
        emails = []
        actions = []
        for reminder in ours:
            if reminder.status == ReminderStatus.SUPPRESSED:
                stats["suppressed"] += 1
                continue
            stats["scheduled"] += 1
            if reminder.channel == Channel.EMAIL:
                emails.append(reminder)
            elif reminder.channel == Channel.LETTER:
                stats["letters"] += 1
            else:
                actions.append(reminder)
        done = _stage_actions(
            reminders=actions, invoices=invoices, run_date=run_date, now=now, stats=stats
        )
        audit.record(
            actor=None,
            actor_label="collections run",
            action="collections.reminders_scheduled",
            at=now,
            obj=run,
            after={
                "reminders": [[r.invoice_id, r.stage.code, r.channel, r.status] for r in ours],
                **done,
            },
        )
        if emails:
            _emails_enqueue(emails=emails, rows=rows, now=now, stats=stats, deliver=deliver)


def _taken(*, rows: list[Reminder], run: CollectionRun) -> list[_Taken]:
    """The rows this run inserted (a conflict means another run, or an earlier crashed one,
    took that step): plain tuples, no model instances, and the stages already in hand."""
    stages = {r.stage_id: r.stage for r in rows}
    return [
        _Taken(pk, invoice_id, stages[stage_id], channel, status, days, balance)
        for pk, invoice_id, stage_id, channel, status, days, balance in Reminder.objects.filter(
            run=run, invoice_id__in={r.invoice_id for r in rows}
        )
        .order_by("id")
        .values_list(
            "id",
            "invoice_id",
            "stage_id",
            "channel",
            "status",
            "days_past_due",
            "balance_cents",
        )
    ]


def _emails_enqueue(
    *,
    emails: list[_Taken],
    rows: list[Reminder],
    now: datetime,
    stats: dict[str, int],
    deliver: bool,
) -> None:
    """The email reminders' messages into the outbox, in the chunk's transaction. The run
    sends these itself after the commit (dispatch=False: no huey task too)."""
    by_key = {(r.invoice_id, r.stage_id, r.channel): r for r in rows}
    saved: list[Reminder] = []
    for taken in emails:
        row = by_key[(taken.invoice_id, taken.stage.pk, taken.channel)]
        row.pk = taken.pk
        saved.append(row)
    ids = outbox.enqueue_many(reminder_messages(saved), now=now, dispatch=False)
    if deliver:
        message_ids = list(ids.values())
        transaction.on_commit(lambda: deliver_after_commit(message_ids, now, stats))


def _invoice_lines(items: list[tuple[_Taken, Any]]) -> str:
    return "\n".join(
        f"Invoice {invoice} is {reminder.days_past_due} days past due with "
        f"{firm_money(reminder.balance_cents, invoice.currency)} open."
        for reminder, invoice in items
    )


def _stage_actions(
    *,
    reminders: list[_Taken],
    invoices: dict[int, Any],
    run_date: date,
    now: datetime,
    stats: dict[str, int],
) -> dict[str, Any]:
    """The stage actions of one chunk's ACTIONS rows (all inserted by this run, in the chunk's
    transaction), grouped per matter: one collections task per (matter, stage), one partner
    escalation task per matter, one hold per matter. Tasks are keyed per matter, so while a
    matter's task is open a later invoice reaching the stage is covered by it (its Reminder row
    still records the step). Returns what was done, for the chunk's audit event."""
    if not reminders:
        return {}
    by_stage: dict[tuple[int, int], list[tuple[_Taken, Any]]] = {}
    escalated: dict[int, list[tuple[_Taken, Any]]] = {}
    hold_for: dict[int, tuple[_Taken, Any]] = {}
    for reminder in reminders:
        invoice = invoices[reminder.invoice_id]
        stage = reminder.stage
        if stage.open_task:
            by_stage.setdefault((invoice.matter_id, stage.pk), []).append((reminder, invoice))
        if stage.escalate_partner:
            escalated.setdefault(invoice.matter_id, []).append((reminder, invoice))
        if stage.set_hold:
            # The oldest invoice of the matter in this chunk names the hold.
            current = hold_for.get(invoice.matter_id)
            if current is None or reminder.days_past_due > current[0].days_past_due:
                hold_for[invoice.matter_id] = (reminder, invoice)
    done: dict[str, Any] = {}
    if hold_for:
        done["holds"] = _holds_set(hold_for=hold_for, now=now, stats=stats)
    specs = _task_specs(by_stage=by_stage, escalated=escalated, run_date=run_date)
    if specs:
        opened = integration.tasks_open(specs=specs, now=now)
        stats["tasks"] += len(opened)
        done["tasks"] = [t.pk for t in opened]
    return done


def _task_specs(
    *,
    by_stage: dict[tuple[int, int], list[tuple[_Taken, Any]]],
    escalated: dict[int, list[tuple[_Taken, Any]]],
    run_date: date,
) -> list[Any]:
    """One collections task per (matter, stage) and one partner escalation per matter."""
    specs = []
    for (matter_id, _), items in by_stage.items():
        stage = items[0][0].stage
        matter = items[0][1].matter
        specs.append(
            integration.task_spec(
                key=f"collections:matter:{matter_id}:stage:{stage.code}",
                matter_id=matter_id,
                title=f"Collections: {stage.name} on matter {matter.number}"[:200],
                due_date=run_date + timedelta(days=3),
                assignee_role="BILLING",
                description=_invoice_lines(items) + "\nContact the client.",
            )
        )
    for matter_id, items in escalated.items():
        matter = items[0][1].matter
        oldest = max(r.days_past_due for r, _ in items)
        held = any(r.stage.set_hold for r, _ in items)
        specs.append(
            integration.task_spec(
                key=f"collections:matter:{matter_id}:partner",
                matter_id=matter_id,
                title=(f"Escalated: matter {matter.number} has an invoice {oldest} days past due")[
                    :200
                ],
                due_date=run_date + timedelta(days=2),
                assignee_id=matter.responsible_partner_id,
                assignee_role="" if matter.responsible_partner_id else "PARTNER",
                description=_invoice_lines(items)
                + (
                    "\nReview the matter; new work is on hold until the balance is settled."
                    if held
                    else ""
                ),
            )
        )
    return specs


def _holds_set(
    *, hold_for: dict[int, tuple[_Taken, Any]], now: datetime, stats: dict[str, int]
) -> list[int]:
    """Hold new work on these matters: one active CollectionHold per matter (a matter that has
    one is left alone), the matters' holds set through the matters service (which locks them in
    id order, so concurrent runs queue here). Returns the ids of the holds created."""
    active = set(
        CollectionHold.objects.filter(
            matter_id__in=list(hold_for), status=HoldStatus.ACTIVE
        ).values_list("matter_id", flat=True)
    )
    reasons = {
        matter_id: f"Invoice {invoice} is {reminder.days_past_due} days past due"
        for matter_id, (reminder, invoice) in hold_for.items()
        if matter_id not in active
    }
    if not reasons:
        return []
    integration.holds_set(
        reasons={m: f"Collections: {reason}" for m, reason in reasons.items()}, now=now
    )
    # Re-read under the matter locks: a concurrent run may have held some meanwhile.
    active = set(
        CollectionHold.objects.filter(
            matter_id__in=list(reasons), status=HoldStatus.ACTIVE
        ).values_list("matter_id", flat=True)
    )
    holds = CollectionHold.objects.bulk_create(
        [
            CollectionHold(
                matter_id=matter_id,
                invoice_id=hold_for[matter_id][1].pk,
                status=HoldStatus.ACTIVE,
                reason=reason,
                set_at=now,
            )
            for matter_id, reason in sorted(reasons.items())
            if matter_id not in active
        ]
    )
    stats["holds_set"] += len(holds)
    return [h.pk for h in holds]
