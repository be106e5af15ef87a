"""Matter budgets: set, reduce, and the threshold check after billing."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.choices import Role
from caseledger.core.models import User
from caseledger.matters import hooks, locks
from caseledger.matters.choices import (
    BUDGET_THRESHOLDS_PCT,
    BudgetKind,
)
from caseledger.matters.exceptions import (
    MatterError,
)
from caseledger.matters.models import (
    BudgetChange,
    Matter,
    Task,
)
from caseledger.matters.services.tasks import task_open_for_system

BUDGET_KIND_INVALID = "budget_kind: must be one of {allowed} (got {value!r})"
BUDGET_AMOUNT_INVALID = "budget: must be zero or more (got {value})"
BUDGET_MAX_CENTS = (
    100_000_000_000  # $1,000,000,000.00: far above any engagement, far below overflow
)
BUDGET_AMOUNT_TOO_LARGE = "budget: at most {limit} (got {value})"
BUDGET_AMOUNT_REQUIRED = "budget: required with a budget kind"
BUDGET_REASON_REQUIRED = "reason: required when changing the budget"
BUDGET_REDUCE_INVALID = "amount: a budget reduction must be positive (got {value})"
BUDGET_TASK_TITLE = "Budget: {pct}% of the {kind} billed on {number}"
BUDGET_TASK_DESCRIPTION = (
    "Billed {billed} of the agreed {budget} ({share}%). Talk to the client about the budget "
    "before more work is billed."
)


def _budget_record(
    *,
    matter: Matter,
    kind: str,
    before: int | None,
    after: int | None,
    reason: str,
    source: str,
    actor: User | None,
    now: datetime,
    action: str,
) -> BudgetChange:
    change = BudgetChange.objects.create(
        matter=matter,
        kind=kind,
        before_cents=before,
        after_cents=after,
        reason=reason[:300],
        source=source[:120],
        actor=actor,
        at=now,
    )
    audit.record(
        actor=actor,
        action=action,
        at=now,
        obj=matter,
        before={"budget_kind": matter.budget_kind, "budget_cents": before},
        after={"budget_kind": kind, "budget_cents": after, "reason": reason, "source": source},
    )
    return change


@transaction.atomic
def matter_budget_set(
    *,
    matter: Matter,
    kind: str,
    amount_cents: int | None,
    reason: str,
    actor: User | None,
    now: datetime,
) -> Matter:
    """Set, change or clear (``kind`` "") the matter's agreed fee or estimate, with a reason.

    Writes a BudgetChange row and an audit event, then opens the 80% / 100% tasks the new amount
    crosses (``matter_budget_check``). Raises MatterError for an unknown kind, a missing or
    negative amount, or no reason."""
    kind = kind or ""
    if kind and kind not in BudgetKind.values:
        raise MatterError(
            BUDGET_KIND_INVALID.format(allowed=", ".join(BudgetKind.values), value=kind),
            field="budget_kind",
        )
    if kind and amount_cents is None:
        raise MatterError(BUDGET_AMOUNT_REQUIRED, field="budget")
    if amount_cents is not None and amount_cents < 0:
        raise MatterError(
            BUDGET_AMOUNT_INVALID.format(value=firm_money(amount_cents)), field="budget"
        )
    if amount_cents is not None and amount_cents > BUDGET_MAX_CENTS:
        raise MatterError(
            BUDGET_AMOUNT_TOO_LARGE.format(
                limit=firm_money(BUDGET_MAX_CENTS), value=firm_money(amount_cents)
            ),
            field="budget",
        )
    reason = (reason or "").strip()
    if not reason:
        raise MatterError(BUDGET_REASON_REQUIRED, field="reason")
    locked = locks.matter_lock(matter_id=matter.pk)
    after = amount_cents if kind else None
    if locked.budget_kind == kind and locked.budget_cents == after:
        return locked
    before = locked.budget_cents
    _budget_record(
        matter=locked,
        kind=kind or locked.budget_kind or BudgetKind.ESTIMATE,
        before=before,
        after=after,
        reason=reason,
        source="",
        actor=actor,
        now=now,
        action="matters.budget_set",
    )
    locked.budget_kind = kind
    locked.budget_cents = after
    locked.updated_at = now
    locked.save(update_fields=["budget_kind", "budget_cents", "updated_at"])
    matter.budget_kind, matter.budget_cents = locked.budget_kind, locked.budget_cents
    matter_budget_check(matter=locked, now=now)
    return locked


@transaction.atomic
def matter_budget_reduce(
    *,
    matter: Matter,
    amount_cents: int,
    reason: str,
    source: str,
    actor: User | None,
    now: datetime,
) -> Matter:
    """Lower the matter's budget by ``amount_cents`` (never below zero) for a scope reduction,
    e.g. a credit note; ``source`` names the document. A matter without a budget is left as it
    is. The caller holds the matter lock first when it also locks invoices (global order)."""
    if amount_cents <= 0:
        raise MatterError(
            BUDGET_REDUCE_INVALID.format(value=firm_money(amount_cents)), field="amount"
        )
    locked = locks.matter_lock(matter_id=matter.pk)
    if not locked.budget_kind or locked.budget_cents is None:
        return locked
    before = locked.budget_cents
    after = max(before - amount_cents, 0)
    _budget_record(
        matter=locked,
        kind=locked.budget_kind,
        before=before,
        after=after,
        reason=(reason or "").strip() or "Scope reduction",
        source=source,
        actor=actor,
        now=now,
        action="matters.budget_reduced",
    )
    locked.budget_cents = after
    locked.updated_at = now
    locked.save(update_fields=["budget_cents", "updated_at"])
    matter_budget_check(matter=locked, now=now)
    return locked


def _budget_task_assignee(matter: Matter) -> tuple[User | None, str]:
    """The responsible attorney: the matter's attorney, else its partner, else every attorney."""
    person = matter.attorney or matter.responsible_partner
    if person is not None:
        return person, ""
    return None, Role.ATTORNEY


def matter_budget_check(*, matter: Matter, now: datetime) -> list[Task]:
    """Open a task for the responsible attorney for each budget threshold (80%, 100% of the
    agreed amount, billed) the matter has reached, once per threshold and matter: a key whose
    task exists (open or done) opens nothing again. Returns the tasks this call opened.

    Billed comes from ``hooks.billed_cents`` (billing registers it). Call inside the write
    that changed the billed amount or the budget."""
    if not matter.budget_kind or not matter.budget_cents:
        return []
    billed = hooks.billed_cents(matter)
    share = billed * 100 // matter.budget_cents
    opened: list[Task] = []
    for pct in BUDGET_THRESHOLDS_PCT:
        if billed * 100 < pct * matter.budget_cents:
            continue
        key = f"matters.budget:{matter.pk}:{pct}"
        if Task.objects.filter(system_key=key).exists():
            continue
        assignee, role = _budget_task_assignee(matter)
        opened.append(
            task_open_for_system(
                key=key,
                matter=matter,
                title=BUDGET_TASK_TITLE.format(
                    pct=pct,
                    kind=BudgetKind(matter.budget_kind).label.lower(),
                    number=matter.number,
                ),
                description=BUDGET_TASK_DESCRIPTION.format(
                    billed=firm_money(billed), budget=firm_money(matter.budget_cents), share=share
                ),
                due_date=clock.firm_date(now),
                now=now,
                assignee=assignee,
                assignee_role=role,
            )
        )
    return opened
