"""What a collections run has to do: for each overdue invoice of a chunk, the one stage its
client's policy puts it in, the channels of that stage not yet taken, whether a dispute, a plan,
trust, a promise, a payment or a manual reminder holds the step back, and the Reminder rows
(not yet saved) the step writes. Reads only; ``commit`` writes them (see ``run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Max, Min, Sum
from django.utils import translation
from django.utils.translation import gettext

from caseledger.collections import integration
from caseledger.collections.choices import ActivityKind, Channel, ReminderStatus, RunStatus
from caseledger.collections.models import (
    CollectionActivity,
    CollectionPolicy,
    CollectionRun,
    InvoiceDispute,
    PaymentPlan,
    PolicyStage,
    Reminder,
)
from caseledger.core.amounts import firm_money
from caseledger.core.i18n import known_language, long_date

# What a chunk's planning reads of each open settlement row (with its invoice, client, matter).
CHUNK_FIELDS = (
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


# One invoice the chunk wants to act on: its row, policy, stage, days past due, channels.
Wanted = tuple[dict[str, Any], CollectionPolicy, PolicyStage, int, list[str]]


@dataclass(frozen=True)
class _ChunkFacts:
    """What holds a chunk's steps back, read in one query each for the whole chunk."""

    disputed: set[int]
    plans: dict[int, PaymentPlan]
    promised: set[int]
    manual: set[int]
    paid: set[int]
    trust_held: dict[tuple[int, int], int]


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


def policies_load() -> tuple[dict[str, CollectionPolicy], dict[int, list[PolicyStage]]]:
    """The policies by client type ("" the firm default) and each policy's active stages."""
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


def chunk_rows(*, ids: list[int], run_date: date) -> list[dict[str, Any]]:
    """The open settlement rows of these invoices due before ``run_date``, with their joins
    (``CHUNK_FIELDS``), by invoice id."""
    return list(
        integration.open_settlements(due_before=run_date)
        .filter(invoice_id__in=ids)
        .order_by("invoice_id")
        .values(*CHUNK_FIELDS)
    )


def plan_chunk(
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
    """Each invoice of the chunk due a step: the step, and its Reminder rows (none when the
    step is excluded or deferred)."""
    wanted = _wanted(
        chunk=chunk,
        run_date=run_date,
        policies=policies,
        default=default,
        stages_by_policy=stages_by_policy,
        stats=stats,
    )
    if not wanted:
        return []
    facts = _chunk_facts(wanted=wanted, run_date=run_date, prev=prev)
    out: list[tuple[Step, list[Reminder]]] = []
    for row, policy, stage, days, channels in wanted:
        step = Step(
            invoice_id=row["invoice_id"],
            invoice_number=row["invoice__number"] or "",
            client_name=row["invoice__client__name"],
            matter_number=row["invoice__matter__number"],
            days_past_due=days,
            balance_cents=int(row["balance"]),
            stage_name=stage.name,
            channels=channels,
            outcome="SEND",
        )
        _outcome_set(step=step, row=row, policy=policy, facts=facts, run_date=run_date)
        if step.outcome in {"EXCLUDED", "DEFERRED"}:
            stats["excluded" if step.outcome == "EXCLUDED" else "deferred"] += 1
            out.append((step, []))
            continue
        out.append(
            (
                step,
                _reminders(step=step, row=row, stage=stage, run_date=run_date, firm_name=firm_name),
            )
        )
    return out


def _wanted(
    *,
    chunk: list[dict[str, Any]],
    run_date: date,
    policies: dict[str, CollectionPolicy],
    default: CollectionPolicy | None,
    stages_by_policy: dict[int, list[PolicyStage]],
    stats: dict[str, int],
) -> list[Wanted]:
    """The chunk's invoices in a stage with a channel not yet taken (``already_done`` counts
    those whose stage is fully taken)."""
    ids = [row["invoice_id"] for row in chunk]
    done_keys = set(
        Reminder.objects.filter(invoice_id__in=ids).values_list("invoice_id", "stage_id", "channel")
    )
    wanted: list[Wanted] = []
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
    return wanted


def _chunk_facts(*, wanted: list[Wanted], run_date: date, prev: date) -> _ChunkFacts:
    """Disputes, plans, promises, manual reminders, payments and trust balances of the wanted
    invoices (one query each)."""
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
    return _ChunkFacts(
        disputed=disputed,
        plans=plans,
        promised=promised,
        manual=manual,
        paid=paid,
        trust_held=trust_held,
    )


def _outcome_set(
    *,
    step: Step,
    row: dict[str, Any],
    policy: CollectionPolicy,
    facts: _ChunkFacts,
    run_date: date,
) -> None:
    """EXCLUDED (dispute, plan in good standing, trust covering the balance), DEFERRED (a
    promise in force) or SUPPRESSED (paid, or reminded by hand, since the last run); else the
    step stays SEND."""
    invoice_id = step.invoice_id
    if policy.exclude_dispute and invoice_id in facts.disputed:
        step.outcome, step.note = "EXCLUDED", "dispute open"
    elif (
        policy.exclude_payment_plan
        and invoice_id in facts.plans
        and _plan_good_standing(facts.plans[invoice_id], int(row["paid_cents"]), run_date)
    ):
        step.outcome, step.note = "EXCLUDED", "payment plan in good standing"
    elif policy.exclude_trust_covered and facts.trust_held.get(
        (row["invoice__client_id"], row["invoice__matter_id"]), 0
    ) >= int(row["balance"]):
        step.outcome, step.note = "EXCLUDED", "trust on the matter covers the balance"
    elif invoice_id in facts.promised:
        step.outcome, step.note = "DEFERRED", "promise to pay in force"
    elif invoice_id in facts.paid:
        step.outcome, step.note = "SUPPRESSED", "payment received since the last run"
    elif invoice_id in facts.manual:
        step.outcome, step.note = "SUPPRESSED", "manual reminder since the last run"


def _reminders(
    *, step: Step, row: dict[str, Any], stage: PolicyStage, run_date: date, firm_name: str
) -> list[Reminder]:
    """One Reminder row per channel of a step that is sent or suppressed, its text rendered
    in the client's language."""
    subject, body = reminder_text(
        stage,
        language=row["invoice__client__preferred_language"],
        values={
            "client": row["invoice__client__name"],
            "invoice": row["invoice__number"],
            "balance": firm_money(int(row["balance"]), row["invoice__currency"]),
            "due_date": row["invoice__due_date"],
            "days_past_due": step.days_past_due,
            "matter": row["invoice__matter__number"],
            "firm": firm_name,
        },
    )
    to_email = row["invoice__client__email"] or ""
    reminders = []
    for channel in step.channels:
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
                invoice_id=step.invoice_id,
                stage=stage,
                channel=channel,
                status=status,
                run_date=run_date,
                days_past_due=step.days_past_due,
                balance_cents=int(row["balance"]),
                to_email=to_email if channel == Channel.EMAIL else "",
                subject=subject,
                body=body,
                note=step.note,
            )
        )
    return reminders


def matters_with_overdue_balance(run_date: date) -> dict[int, dict[str, Any]]:
    """Per matter: overdue cents and the largest days past due (grouped in the database)."""
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
