"""After a collections run's chunks are committed: the chunk's reminder emails sent through the
outbox (each message claimed on its own), holds whose matter has no overdue balance left lifted,
and the at-risk tags refreshed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from caseledger.collections import integration
from caseledger.collections.choices import HoldStatus
from caseledger.collections.models import AtRiskMatter, CollectionHold, CollectionPolicy
from caseledger.collections.services.delivery import reminders_deliver
from caseledger.collections.services.plan import matters_with_overdue_balance, policies_load


def deliver_after_commit(ids: list[int], now: datetime, stats: dict[str, int]) -> None:
    """Send a committed chunk's reminder messages (``transaction.on_commit`` of the chunk)."""
    stats["emails_sent"] += reminders_deliver(message_ids=ids, now=now)


def lift_cleared_holds(*, run_date: date, now: datetime, stats: dict[str, int]) -> None:
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
        policies, _ = policies_load()
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
