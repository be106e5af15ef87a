from __future__ import annotations

from caseledger.core.models import Firm


def firm_get() -> Firm:
    """The firm row (created by migration 0002; get_or_create keeps a fresh test DB working)."""
    firm, _ = Firm.objects.get_or_create(id=1)
    return firm
