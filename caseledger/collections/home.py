"""Home panel: at-risk matters (an overdue balance meeting a case deadline soon), listed first
on the home page of partners (and of billing, admins and attorneys, for their own matters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest

from caseledger.collections.selectors import at_risk_list
from caseledger.core.home import HomePanel
from caseledger.core.permissions import authorize


def at_risk_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    user = request.user
    matters = None
    if not authorize(user, "collections.view"):
        from caseledger.matters.selectors import matters_visible_to

        matters = matters_visible_to(user)
    rows = list(at_risk_list(matters=matters)[:20])
    # The partner's own matters first, then the rest by deadline.
    rows.sort(key=lambda r: (r.matter.responsible_partner_id != user.pk, r.deadline_date))
    return {"rows": rows[:8], "count": len(rows)}


PANELS = [
    HomePanel(
        key="collections.at_risk",
        title="At-risk matters",
        template="collections/home/at_risk.html",
        capability="collections.at_risk",
        context=at_risk_context,
        order=1,
        wide=True,
    ),
]
