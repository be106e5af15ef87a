"""Trust settings and per-matter thresholds."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caseledger.core import audit
from caseledger.core.amounts import amount_check, amount_check_optional, firm_money
from caseledger.core.models import User
from caseledger.matters.models import Matter
from caseledger.trust import locks, selectors
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    MatterTrust,
    TrustSettings,
)
from caseledger.trust.services.common import CLEAR_DAYS_INVALID, THRESHOLD_NEGATIVE
from caseledger.trust.services.low_balance import low_balance_check


def trust_settings_update(
    *,
    actor: User,
    now: datetime,
    low_balance_threshold_cents: int,
    auto_replenish: bool,
    check_clear_days: int,
    ach_clear_days: int,
    wire_clear_days: int,
    cash_clear_days: int,
    processor_nets_fee: bool,
    disbursement_expiry_days: int,
) -> TrustSettings:
    amount_check(low_balance_threshold_cents, field="threshold")
    if low_balance_threshold_cents < 0:
        raise TrustError(
            THRESHOLD_NEGATIVE.format(amount=firm_money(low_balance_threshold_cents)),
            field="threshold",
        )
    days = {
        "check_clear_days": check_clear_days,
        "ach_clear_days": ach_clear_days,
        "wire_clear_days": wire_clear_days,
        "cash_clear_days": cash_clear_days,
    }
    for field, value in days.items():
        if not 0 <= value <= 30:
            raise TrustError(CLEAR_DAYS_INVALID.format(field=field, value=value), field=field)
    with transaction.atomic():
        row = selectors.trust_settings_get()
        before = {
            "low_balance_threshold_cents": row.low_balance_threshold_cents,
            "auto_replenish": row.auto_replenish,
            "processor_nets_fee": row.processor_nets_fee,
            "disbursement_expiry_days": row.disbursement_expiry_days,
            **{f: getattr(row, f) for f in days},
        }
        row.low_balance_threshold_cents = low_balance_threshold_cents
        row.auto_replenish = auto_replenish
        row.processor_nets_fee = processor_nets_fee
        row.disbursement_expiry_days = max(disbursement_expiry_days, 1)
        for field, value in days.items():
            setattr(row, field, value)
        row.save()
        after = {k: getattr(row, k) for k in before}
        b, a = audit.diff(before, after)
        audit.record(
            actor=actor, action="trust.settings_updated", at=now, obj=row, before=b, after=a
        )
    return row


def matter_threshold_set(
    *, matter: Matter, threshold_cents: int | None, actor: User, now: datetime
) -> MatterTrust:
    """Set a matter's low-balance threshold (None: the firm default)."""
    amount_check_optional(threshold_cents, field="threshold")
    if threshold_cents is not None and threshold_cents < 0:
        raise TrustError(
            THRESHOLD_NEGATIVE.format(amount=firm_money(threshold_cents)), field="threshold"
        )
    with transaction.atomic():
        row = locks.lock_matter_trust(matter, now)
        before = row.low_balance_threshold_cents
        row.low_balance_threshold_cents = threshold_cents
        row.updated_at = now
        row.save(update_fields=["low_balance_threshold_cents", "updated_at"])
        audit.record(
            actor=actor,
            action="trust.threshold_set",
            at=now,
            obj=matter,
            before={"threshold_cents": before},
            after={"threshold_cents": threshold_cents},
        )
        low_balance_check(matter=matter, now=now)
    return row
