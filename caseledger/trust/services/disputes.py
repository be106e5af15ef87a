"""Dispute holds on trust funds."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.models import User
from caseledger.matters.models import Matter
from caseledger.trust import locks, selectors
from caseledger.trust.choices import (
    DisputeStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    DisputeHold,
)
from caseledger.trust.services.common import (
    DISPUTE_NOT_OPEN,
    DISPUTE_OVER_BALANCE,
    DISPUTE_REASON_REQUIRED,
    _check_amount,
)


def dispute_hold_create(
    *, matter: Matter, amount_cents: int, reason: str, actor: User, now: datetime
) -> DisputeHold:
    _check_amount(amount_cents)
    if not reason.strip():
        raise TrustError(DISPUTE_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        position = selectors.trust_position(matter, as_of=clock.firm_date(now))
        free = position.balance_cents - position.disputed_cents
        if amount_cents > free:
            raise TrustError(
                DISPUTE_OVER_BALANCE.format(
                    amount=firm_money(amount_cents),
                    matter=matter.number,
                    free=firm_money(max(free, 0)),
                ),
                field="amount",
            )
        hold = DisputeHold.objects.create(
            client_id=matter.client_id,
            matter=matter,
            amount_cents=amount_cents,
            reason=reason.strip(),
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="trust.dispute_opened",
            at=now,
            obj=hold,
            after={"amount_cents": amount_cents, "reason": hold.reason, "matter": matter.number},
        )
    return hold


def dispute_hold_release(
    *, hold: DisputeHold, actor: User, now: datetime, note: str = ""
) -> DisputeHold:
    with transaction.atomic():
        locks.lock_matter_trust(hold.matter, now)
        hold = locks.lock_dispute_hold(hold.pk)
        if hold.status != DisputeStatus.OPEN:
            raise TrustError(DISPUTE_NOT_OPEN, field="dispute")
        hold.status = DisputeStatus.RELEASED
        hold.released_by = actor
        hold.released_at = now
        hold.release_note = note[:300]
        hold.save(update_fields=["status", "released_by", "released_at", "release_note"])
        audit.record(
            actor=actor,
            action="trust.dispute_released",
            at=now,
            obj=hold,
            before={"status": DisputeStatus.OPEN},
            after={"status": hold.status, "note": note},
        )
    return hold
