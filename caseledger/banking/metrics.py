"""Gauges for ``/metrics`` (listed in ``settings.METRICS_GAUGES``; core.observability reads
them at scrape time)."""

from __future__ import annotations

from django.db.models import Max, Q

from caseledger.banking.choices import ReconciliationStatus
from caseledger.banking.models import BankAccount
from caseledger.core import clock


def reconciliation_age_seconds() -> list[tuple[dict[str, str], float]]:
    """Per active bank account: seconds since its newest signed reconciliation was signed, or,
    never reconciled, since the account was created (so an alert on the age fires for both).
    One aggregate query."""
    now = clock.now()
    rows = (
        BankAccount.objects.filter(is_active=True)
        .annotate(
            last_signed=Max(
                "reconciliations__signed_at",
                filter=Q(reconciliations__status=ReconciliationStatus.SIGNED),
            )
        )
        .values_list("id", "is_trust", "created_at", "last_signed")
        .order_by("id")
    )
    return [
        (
            {"account": str(pk), "kind": "trust" if is_trust else "operating"},
            max(0.0, (now - (last_signed or created_at)).total_seconds()),
        )
        for pk, is_trust, created_at, last_signed in rows
    ]
