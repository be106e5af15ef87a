"""Home panels: trust at a glance (balances, uncleared, disputed, low) and the disbursement
approval queue for lawyers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest

from caseledger.core import clock
from caseledger.core.home import HomePanel


def _visible(user: Any) -> Any:
    """The one rule of who sees which matters (``matters.selectors.matters_visible_to``)."""
    from caseledger.matters.selectors import matters_visible_to

    return matters_visible_to(user)


def _trust_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.trust.selectors import trust_dashboard

    positions = trust_dashboard(clock.firm_date(now), _visible(request.user))
    return {
        "balance": sum(p.balance_cents for p in positions),
        "uncleared": sum(p.uncleared_cents for p in positions),
        "disputed": sum(p.disputed_cents for p in positions),
        "low": [p for p in positions if p.is_low][:5],
    }


def _approvals_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.trust.selectors import disbursement_queue

    queue = disbursement_queue().filter(matter__in=_visible(request.user))
    waiting = [
        d
        for d in queue
        if d.status == "REQUESTED"
        and d.requested_by_id != request.user.pk
        and all(a.approver_id != request.user.pk for a in d.approvals.all())
    ]
    return {"waiting": waiting[:8], "count": len(waiting)}


PANELS = [
    HomePanel(
        key="trust.summary",
        title="Client trust",
        template="trust/home/summary.html",
        capability="trust.view",
        context=_trust_context,
        order=30,
    ),
    HomePanel(
        key="trust.approvals",
        title="Disbursements waiting for your approval",
        template="trust/home/approvals.html",
        capability="trust.disburse.approve",
        context=_approvals_context,
        order=25,
    ),
]
