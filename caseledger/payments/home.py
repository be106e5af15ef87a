"""Home panel: payments received this month and online payments held for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest

from caseledger.core import clock
from caseledger.core.home import HomePanel


def _payments_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.payments.choices import PaymentStatus
    from caseledger.payments.models import Payment

    today = clock.firm_date(now)
    month = Payment.objects.filter(
        status=PaymentStatus.RECEIVED, received_date__gte=today.replace(day=1)
    ).aggregate(total=Sum("amount_cents"))["total"]
    held = list(
        Payment.objects.filter(status=PaymentStatus.HELD)
        .select_related("client")
        .order_by("id")[:5]
    )
    return {"month_cents": int(month or 0), "held": held}


PANELS = [
    HomePanel(
        key="payments.summary",
        title="Payments",
        template="payments/home/summary.html",
        capability="payments.view",
        context=_payments_context,
        order=35,
    ),
]
