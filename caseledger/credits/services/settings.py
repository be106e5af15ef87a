"""The firm's credits settings: which reason codes always need a partner's approval, and the
approval thresholds of credit notes and write-offs."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caseledger.core import audit
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.core.selectors import firm_get
from caseledger.credits import exceptions as E
from caseledger.credits import locks
from caseledger.credits.choices import ReasonCode


def credit_settings_update(*, approval_reason_codes: list[str], actor: User, now: datetime) -> None:
    require(actor, "credits.settings")
    for code in approval_reason_codes:
        if code not in ReasonCode.values:
            raise E.CreditError(
                E.APPROVAL_REASONS_INVALID.format(value=code), field="approval_reason_codes"
            )
    with transaction.atomic():
        settings = locks.credit_settings_lock()
        before = {"approval_reason_codes": settings.approval_reason_codes}
        settings.approval_reason_codes = sorted(set(approval_reason_codes))
        settings.save()
        audit.record(
            actor=actor,
            action="credits.settings_updated",
            at=now,
            obj=settings,
            before=before,
            after={"approval_reason_codes": settings.approval_reason_codes},
        )


def firm_thresholds() -> tuple[int, int]:
    firm = firm_get()
    return firm.credit_note_approval_cents, firm.write_off_approval_cents
