"""Low-balance follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from caseledger.core import clock
from caseledger.core.amounts import firm_money
from caseledger.core.choices import Role
from caseledger.matters.choices import MatterStatus
from caseledger.matters.models import Matter
from caseledger.trust import selectors
from caseledger.trust.choices import (
    TrustRequestKind,
    TrustRequestStatus,
)
from caseledger.trust.models import (
    TrustRequest,
)
from caseledger.trust.services.common import LOW_BALANCE_TASK_KEY
from caseledger.trust.services.requests import trust_request_create


def low_balance_check(*, matter: Matter, now: datetime) -> bool:
    """When the matter's trust balance is below its threshold: one open task (a stable key, so
    never a second while the first is open) for the responsible attorney and billing, and, if
    the firm chose it, one open replenishment request up to the threshold. Returns True if low."""
    if matter.status == MatterStatus.CLOSED:
        return False
    position = selectors.trust_position(matter, as_of=clock.firm_date(now))
    if not position.is_low:
        return False
    from caseledger.matters.services import task_open_for_system

    task_open_for_system(
        key=LOW_BALANCE_TASK_KEY.format(matter_id=matter.pk),
        matter=matter,
        title=(
            f"Trust below minimum on {matter.number}: {firm_money(position.balance_cents)} < "
            f"{firm_money(position.threshold_cents)}"
        ),
        due_date=clock.firm_date(now) + timedelta(days=3),
        now=now,
        assignee=matter.attorney or matter.responsible_partner,
        assignee_role=Role.BILLING,
        description=(
            "The client's trust balance fell below the agreed minimum. Ask the client to "
            "replenish (a replenishment trust request) or adjust the threshold."
        ),
    )
    settings_row = selectors.trust_settings_get()
    if settings_row.auto_replenish:
        has_open = TrustRequest.objects.filter(
            matter=matter,
            kind=TrustRequestKind.REPLENISHMENT,
            status__in=[TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID],
        ).exists()
        if not has_open:
            trust_request_create(
                client=matter.client,
                matter=matter,
                kind=TrustRequestKind.REPLENISHMENT,
                amount_cents=position.threshold_cents - position.balance_cents,
                due_date=clock.firm_date(now) + timedelta(days=14),
                actor=None,
                now=now,
                memo="Automatic replenishment: trust fell below the agreed minimum",
            )
    return True


def low_balance_sweep(*, now: datetime) -> int:
    """Daily: run the low-balance check on every matter with trust history."""
    count = 0
    for matter in selectors.trust_matters():
        with transaction.atomic():
            count += int(low_balance_check(matter=matter, now=now))
    return count
