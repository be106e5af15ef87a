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
    from caseledger.trust.selectors import trust_matters_by_ids, trust_positions, trust_totals_of

    as_of = clock.firm_date(now)
    totals = trust_totals_of(request.user, as_of)
    # The first five below their minimum, in the dashboard's order, with the totals' figures.
    first_low = trust_matters_by_ids(totals.first_low_ids(5))
    return {
        "balance": totals.balance_cents,
        "uncleared": totals.uncleared_cents,
        "disputed": totals.disputed_cents,
        "low": trust_positions(first_low, as_of, figures=totals.first_low),
    }


def _approvals_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    """Requested disbursements of the user's matters that someone else asked for and the user
    has not approved yet, with their approvals counted, in one statement."""
    from caseledger.trust.selectors import disbursements_to_approve

    waiting = list(disbursements_to_approve(request.user, _visible(request.user)))
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
