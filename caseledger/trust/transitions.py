"""The disbursement workflow: which status may follow which (``core.transitions``).

Requested -> approved (its required approvals recorded), rejected (a lawyer or the requester) or
expired (past its date, by the daily job); approved -> posted (paid out of trust), rejected or
expired. Posted, rejected and expired are final: a posted disbursement is corrected by a
reversing entry, never by a status change.
"""

from __future__ import annotations

from caseledger.core.transitions import StatusMachine
from caseledger.trust.choices import DisbursementStatus as S
from caseledger.trust.exceptions import TrustError

DISBURSEMENT_TRANSITIONS = StatusMachine(
    noun="disbursement",
    statuses=S,
    allowed={
        S.REQUESTED: {S.APPROVED, S.REJECTED, S.EXPIRED},
        S.APPROVED: {S.POSTED, S.REJECTED, S.EXPIRED},
        S.POSTED: set(),
        S.REJECTED: set(),
        S.EXPIRED: set(),
    },
    error=TrustError,
)
