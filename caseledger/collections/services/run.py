"""The daily collections run: which reminder step each overdue invoice is due for, and doing it
exactly once.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import translation
from django.utils.translation import gettext

from caseledger.collections import integration
from caseledger.collections.choices import (
    ActivityKind,
    Channel,
    HoldStatus,
    ReminderStatus,
    RunStatus,
)
from caseledger.collections.models import (
    AtRiskMatter,
    CollectionActivity,
    CollectionHold,
    CollectionPolicy,
    CollectionRun,
    InvoiceDispute,
    PaymentPlan,
    PolicyStage,
    Reminder,
)
from caseledger.collections.services.delivery import (
    reminder_messages,
    reminders_deliver,
    reminders_deliver_pending,
)
from caseledger.collections.services.policies import policy_default_ensure
from caseledger.core import audit, outbox
from caseledger.core.amounts import firm_money
from caseledger.core.i18n import known_language, long_date
from caseledger.core.selectors import firm_get

CHUNK = 500


@dataclass
class Step:
    """What the run does (or would do) for one invoice."""

    invoice_id: int
    invoice_number: str
    client_name: str
    matter_number: str
    days_past_due: int
    balance_cents: int
    stage_name: str
    channels: list[str]
    outcome: str  # SEND | SUPPRESSED | DEFERRED | EXCLUDED
    note: str = ""


@dataclass
class RunResult:
    run: CollectionRun | None
    run_date: date
    steps: list[Step] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


class _SafeDict(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_stage_text(text: str, values: dict[str, Any]) -> str:
    return text.format_map(_SafeDict(values))


def reminder_text(stage: PolicyStage, *, language: str, values: dict[str, Any]) -> tuple[str, str]:
    """A stage's subject and body for a client reading ``language``. A stage whose text is the
    firm default's reads in the client's language (the collections catalog has its Spanish); a
    text the firm rewrote has no translation and is sent as written. ``values["due_date"]`` is
    a date, written out in the client's language ("2 de diciembre de 2026")."""
    with translation.override(known_language(language)):
        values = {**values, "due_date": long_date(values["due_date"])}
        return (
            render_stage_text(gettext(stage.subject) if stage.subject else "", values),
            render_stage_text(gettext(stage.body) if stage.body else "", values),
        )


def _policies() -> tuple[dict[str, CollectionPolicy], dict[int, list[PolicyStage]]]:
    policies = {p.client_type: p for p in CollectionPolicy.objects.all()}
    stages: dict[int, list[PolicyStage]] = {}
    for stage in PolicyStage.objects.filter(active=True).order_by("days_from", "id"):
        stages.setdefault(stage.policy_id, []).append(stage)
    return policies, stages


def _stage_for(stages: list[PolicyStage], days: int) -> PolicyStage | None:
    for stage in stages:
        if stage.days_from <= days and (stage.days_to is None or days <= stage.days_to):
            return stage
    return None


def _channels(stage: PolicyStage, has_email: bool) -> list[str]:
    channels = []
    if stage.send_email and has_email:
        channels.append(Channel.EMAIL.value)
    if stage.send_letter or (stage.send_email and not has_email):
        # No email address on file: the reminder goes out as a letter instead.
        channels.append(Channel.LETTER.value)
    if stage.open_task or stage.escalate_partner or stage.set_hold:
        channels.append(Channel.ACTIONS.value)
    return channels


def previous_run_date(run_date: date) -> date:
    """The date of the last finished run before ``run_date`` (the day before, if none)."""
    last = CollectionRun.objects.filter(status=RunStatus.FINISHED, run_date__lt=run_date).aggregate(
        d=Max("run_date")
    )["d"]
    return last or (run_date - timedelta(days=1))


def _plan_good_standing(plan: PaymentPlan, paid_cents: int, run_date: date) -> bool:
    if run_date < plan.first_due_date:
        return True
    due_count = (run_date - plan.first_due_date).days // plan.interval_days + 1
    return paid_cents - plan.paid_at_agreement_cents >= due_count * plan.installment_cents


def collections_run(
    *,
    run_date: date,
    now: datetime,
    dry_run: bool = False,
    after_chunk: Callable[[int], None] | None = None,
    deliver: bool = True,
    max_steps: int | None = None,
) -> RunResult:
    """Run collections for ``run_date``. With ``dry_run`` nothing is written and the result lists
    every step the run would take (``max_steps``: stop listing after that many, for pages).
    ``after_chunk(n_invoices_done)`` is called after each committed chunk (progress reporting;
    tests use it to simulate a crash)."""
    if not dry_run:
        policy_default_ensure(now=now)
    policies, stages_by_policy = _policies()
    default = policies.get("")
    prev = previous_run_date(run_date)
    run = None
    if not dry_run:
        run = CollectionRun.objects.create(
            run_date=run_date, status=RunStatus.RUNNING, started_at=now
        )
    result = RunResult(run=run, run_date=run_date)
    stats = {
        "invoices": 0,
        "scheduled": 0,
        "already_done": 0,
        "suppressed": 0,
        "deferred": 0,
        "excluded": 0,
        "emails_sent": 0,
        "letters": 0,
        "tasks": 0,
        "holds_set": 0,
        "holds_lifted": 0,
        "at_risk": 0,
    }
    firm_name = firm_get().name
    last_id = 0
    done = 0
    try:
        while True:
            # Keyset over the settlement rows alone (bounded by the invoice-id index), then the
            # chunk's rows with their joins by id: a single query with ``invoice_id > last`` let
            # PostgreSQL merge-join the invoice table from its first row on every chunk.
            ids = integration.open_settlement_ids(after=last_id, limit=CHUNK)
            if not ids:
                break
            last_id = ids[-1]
            chunk = list(
                integration.open_settlements(due_before=run_date)
                .filter(invoice_id__in=ids)
                .order_by("invoice_id")
                .values(
                    "invoice_id",
                    "balance",
                    "paid_cents",
                    "invoice__number",
                    "invoice__currency",
                    "invoice__due_date",
                    "invoice__client_id",
                    "invoice__matter_id",
                    "invoice__client__client_type",
                    "invoice__client__name",
                    "invoice__client__email",
                    "invoice__client__preferred_language",
                    "invoice__matter__number",
                    "invoice__matter__responsible_partner_id",
                )
            )
            if not chunk:
                continue
            stats["invoices"] += len(chunk)
            steps = _plan_chunk(
                chunk=chunk,
                run_date=run_date,
                prev=prev,
                policies=policies,
                default=default,
                stages_by_policy=stages_by_policy,
                firm_name=firm_name,
                stats=stats,
            )
            if dry_run:
                result.steps.extend(s for s, _ in steps)
                if max_steps is not None and len(result.steps) >= max_steps:
                    break
            else:
                assert run is not None
                _commit_chunk(
                    steps=steps, run=run, run_date=run_date, now=now, stats=stats, deliver=deliver
                )
            done += len(chunk)
            if after_chunk is not None:
                after_chunk(done)
        if not dry_run:
            assert run is not None
            _lift_cleared_holds(run_date=run_date, now=now, stats=stats)
            stats["at_risk"] = at_risk_refresh(
                run_date=run_date, policies=policies, default=default
            )
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
    except BaseException as exc:
        if run is not None:
            CollectionRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=now, stats=stats, error=repr(exc)[:2000]
            )
        raise
    result.stats = stats
    return result


def _plan_chunk(
    *,
    chunk: list[dict[str, Any]],
    run_date: date,
    prev: date,
    policies: dict[str, CollectionPolicy],
    default: CollectionPolicy | None,
    stages_by_policy: dict[int, list[PolicyStage]],
    firm_name: str,
    stats: dict[str, int],
) -> list[tuple[Step, list[Reminder]]]:
    ids = [row["invoice_id"] for row in chunk]
    done_keys = set(
        Reminder.objects.filter(invoice_id__in=ids).values_list("invoice_id", "stage_id", "channel")
    )
    wanted: list[tuple[dict[str, Any], CollectionPolicy, PolicyStage, int, list[str]]] = []
    for row in chunk:
        policy = policies.get(row["invoice__client__client_type"]) or default
        if policy is None:
            continue
        days = (run_date - row["invoice__due_date"]).days
        stage = _stage_for(stages_by_policy.get(policy.pk, []), days)
        if stage is None:
            continue
        channels = [
            c
            for c in _channels(stage, bool(row["invoice__client__email"]))
            if (row["invoice_id"], stage.pk, c) not in done_keys
        ]
        if not channels:
            stats["already_done"] += 1
            continue
        wanted.append((row, policy, stage, days, channels))
    if not wanted:
        return []
    wanted_ids = [w[0]["invoice_id"] for w in wanted]
    disputed = set(
        InvoiceDispute.objects.filter(
            invoice_id__in=wanted_ids, resolved_at__isnull=True
        ).values_list("invoice_id", flat=True)
    )
    plans = {
        p.invoice_id: p
        for p in PaymentPlan.objects.filter(invoice_id__in=wanted_ids, cancelled_at__isnull=True)
    }
    promised = set(
        CollectionActivity.objects.filter(
            invoice_id__in=wanted_ids,
            kind=ActivityKind.PROMISE_TO_PAY,
            activity_date__lte=run_date,
            promised_date__gte=run_date,
        ).values_list("invoice_id", flat=True)
    )
    manual = set(
        CollectionActivity.objects.filter(
            invoice_id__in=wanted_ids,
            kind=ActivityKind.MANUAL_REMINDER,
            activity_date__gt=prev,
            activity_date__lte=run_date,
        ).values_list("invoice_id", flat=True)
    )
    paid = integration.invoices_paid_between(wanted_ids, prev, run_date)
    trust_held: dict[tuple[int, int], int] = {}
    if any(w[1].exclude_trust_covered for w in wanted):
        trust_held = integration.trust_balances(
            (w[0]["invoice__client_id"], w[0]["invoice__matter_id"])
            for w in wanted
            if w[1].exclude_trust_covered
        )
    out: list[tuple[Step, list[Reminder]]] = []
    for row, policy, stage, days, channels in wanted:
        invoice_id = row["invoice_id"]
        step = Step(
            invoice_id=invoice_id,
            invoice_number=row["invoice__number"] or "",
            client_name=row["invoice__client__name"],
            matter_number=row["invoice__matter__number"],
            days_past_due=days,
            balance_cents=int(row["balance"]),
            stage_name=stage.name,
            channels=channels,
            outcome="SEND",
        )
        if policy.exclude_dispute and invoice_id in disputed:
            step.outcome, step.note = "EXCLUDED", "dispute open"
        elif (
            policy.exclude_payment_plan
            and invoice_id in plans
            and _plan_good_standing(plans[invoice_id], int(row["paid_cents"]), run_date)
        ):
            step.outcome, step.note = "EXCLUDED", "payment plan in good standing"
        elif policy.exclude_trust_covered and trust_held.get(
            (row["invoice__client_id"], row["invoice__matter_id"]), 0
        ) >= int(row["balance"]):
            step.outcome, step.note = "EXCLUDED", "trust on the matter covers the balance"
        elif invoice_id in promised:
            step.outcome, step.note = "DEFERRED", "promise to pay in force"
        elif invoice_id in paid:
            step.outcome, step.note = "SUPPRESSED", "payment received since the last run"
        elif invoice_id in manual:
            step.outcome, step.note = "SUPPRESSED", "manual reminder since the last run"
        if step.outcome in {"EXCLUDED", "DEFERRED"}:
            stats["excluded" if step.outcome == "EXCLUDED" else "deferred"] += 1
            out.append((step, []))
            continue
        subject, body = reminder_text(
            stage,
            language=row["invoice__client__preferred_language"],
            values={
                "client": row["invoice__client__name"],
                "invoice": row["invoice__number"],
                "balance": firm_money(int(row["balance"]), row["invoice__currency"]),
                "due_date": row["invoice__due_date"],
                "days_past_due": days,
                "matter": row["invoice__matter__number"],
                "firm": firm_name,
            },
        )
        to_email = row["invoice__client__email"] or ""
        reminders = []
        for channel in channels:
            if step.outcome == "SUPPRESSED":
                status = ReminderStatus.SUPPRESSED
            elif channel == Channel.EMAIL:
                status = ReminderStatus.QUEUED
            elif channel == Channel.LETTER:
                status = ReminderStatus.LETTER_READY
            else:
                status = ReminderStatus.DONE
            reminders.append(
                Reminder(
                    invoice_id=invoice_id,
                    stage=stage,
                    channel=channel,
                    status=status,
                    run_date=run_date,
                    days_past_due=days,
                    balance_cents=int(row["balance"]),
                    to_email=to_email if channel == Channel.EMAIL else "",
                    subject=subject,
                    body=body,
                    note=step.note,
                )
            )
        out.append((step, reminders))
    return out


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


def _commit_chunk(
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
        # The rows this run inserted (a conflict means another run, or an earlier crashed one,
        # took that step): plain tuples, no model instances, and the stages already in hand.
        stages = {r.stage_id: r.stage for r in rows}
        ours = [
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
            # The run sends these itself after the commit (dispatch=False: no huey task too).
            by_key = {(r.invoice_id, r.stage_id, r.channel): r for r in rows}
            saved: list[Reminder] = []
            for taken in emails:
                row = by_key[(taken.invoice_id, taken.stage.pk, taken.channel)]
                row.pk = taken.pk
                saved.append(row)
            ids = outbox.enqueue_many(reminder_messages(saved), now=now, dispatch=False)
            if deliver:
                message_ids = list(ids.values())
                transaction.on_commit(lambda: _deliver(message_ids, now, stats))


def _deliver(ids: list[int], now: datetime, stats: dict[str, int]) -> None:
    stats["emails_sent"] += reminders_deliver(message_ids=ids, now=now)


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
    if specs:
        opened = integration.tasks_open(specs=specs, now=now)
        stats["tasks"] += len(opened)
        done["tasks"] = [t.pk for t in opened]
    return done


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


def matters_with_overdue_balance(run_date: date) -> dict[int, dict[str, Any]]:
    """Per matter: overdue cents and the largest days past due (grouped in the database)."""
    from django.db.models import Min

    rows = (
        integration.open_settlements(due_before=run_date)
        .values("invoice__matter_id")
        .annotate(overdue=Sum("balance"), oldest_due=Min("invoice__due_date"))
        .order_by("invoice__matter_id")
    )
    return {
        r["invoice__matter_id"]: {
            "overdue_cents": int(r["overdue"]),
            "days": (run_date - r["oldest_due"]).days,
        }
        for r in rows
    }


def _lift_cleared_holds(*, run_date: date, now: datetime, stats: dict[str, int]) -> None:
    from caseledger.collections.services.records import collection_hold_lift

    active = list(CollectionHold.objects.filter(status=HoldStatus.ACTIVE).select_related("matter"))
    if not active:
        return
    overdue = matters_with_overdue_balance(run_date)
    for hold in active:
        if hold.matter_id in overdue:
            continue
        collection_hold_lift(
            hold=hold, actor=None, reason="Balance cleared", now=now, require_reason=False
        )
        stats["holds_lifted"] += 1


def at_risk_refresh(
    *,
    run_date: date,
    policies: dict[str, CollectionPolicy] | None = None,
    default: CollectionPolicy | None = None,
) -> int:
    """Tag matters whose overdue balance meets a case deadline within the policy's window."""
    if policies is None:
        policies, _ = _policies()
        default = policies.get("")
    window = max([p.at_risk_days for p in policies.values()] or [14])
    overdue = matters_with_overdue_balance(run_date)
    deadlines = integration.matter_deadlines(
        overdue.keys(), start=run_date, until=run_date + timedelta(days=window)
    )
    from caseledger.matters.models import Matter

    types = dict(
        Matter.objects.filter(pk__in=list(deadlines)).values_list("pk", "client__client_type")
    )
    tagged: dict[int, AtRiskMatter] = {}
    for matter_id, (due, label) in deadlines.items():
        policy = policies.get(types.get(matter_id, "")) or default
        days = policy.at_risk_days if policy else 14
        if (due - run_date).days > days:
            continue
        info = overdue[matter_id]
        tagged[matter_id] = AtRiskMatter(
            matter_id=matter_id,
            overdue_cents=info["overdue_cents"],
            max_days_past_due=info["days"],
            deadline_date=due,
            deadline_label=label[:200],
            tagged_on=run_date,
        )
    with transaction.atomic():
        AtRiskMatter.objects.exclude(matter_id__in=list(tagged)).delete()
        for matter_id, row in tagged.items():
            AtRiskMatter.objects.update_or_create(
                matter_id=matter_id,
                defaults={
                    "overdue_cents": row.overdue_cents,
                    "max_days_past_due": row.max_days_past_due,
                    "deadline_date": row.deadline_date,
                    "deadline_label": row.deadline_label,
                    "tagged_on": row.tagged_on,
                },
            )
    return len(tagged)
