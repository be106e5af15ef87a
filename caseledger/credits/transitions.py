"""The credits workflows: which status may follow which (``core.transitions``).

Credit notes: waiting for approval -> issued or rejected; both final (an issued note is
corrected by another document, not a status change).

Write-offs: waiting for approval -> posted or rejected; posted -> reversed (a reversing entry).

Refunds of a credit note follow the document that moves their money: a card refund follows the
payments refund (sent -> refunded or refused; refused -> sent again when retried); a trust refund
follows its disbursement request (waiting -> approved, rejected or expired; approved -> refunded,
rejected or expired). A rejected or expired trust refund stays as it is: asking again makes a new
refund row. Refunded is final.
"""

from __future__ import annotations

from caseledger.core.transitions import StatusMachine
from caseledger.credits.choices import CreditNoteStatus, RefundStatus, WriteOffStatus
from caseledger.credits.exceptions import CreditError

CREDIT_NOTE_TRANSITIONS = StatusMachine(
    noun="credit note",
    statuses=CreditNoteStatus,
    allowed={
        CreditNoteStatus.PENDING_APPROVAL: {CreditNoteStatus.ISSUED, CreditNoteStatus.REJECTED},
        CreditNoteStatus.ISSUED: set(),
        CreditNoteStatus.REJECTED: set(),
    },
    error=CreditError,
)

WRITE_OFF_TRANSITIONS = StatusMachine(
    noun="write-off",
    statuses=WriteOffStatus,
    allowed={
        WriteOffStatus.PENDING_APPROVAL: {WriteOffStatus.POSTED, WriteOffStatus.REJECTED},
        WriteOffStatus.POSTED: {WriteOffStatus.REVERSED},
        WriteOffStatus.REJECTED: set(),
        WriteOffStatus.REVERSED: set(),
    },
    error=CreditError,
)

R = RefundStatus
REFUND_TRANSITIONS = StatusMachine(
    noun="refund",
    statuses=RefundStatus,
    allowed={
        R.CARD_REQUESTED: {R.POSTED, R.CARD_FAILED},
        R.CARD_FAILED: {R.CARD_REQUESTED},
        R.AWAITING_DISBURSEMENT: {
            R.DISBURSEMENT_APPROVED,
            R.DISBURSEMENT_REJECTED,
            R.DISBURSEMENT_EXPIRED,
        },
        R.DISBURSEMENT_APPROVED: {R.POSTED, R.DISBURSEMENT_REJECTED, R.DISBURSEMENT_EXPIRED},
        R.DISBURSEMENT_REJECTED: set(),
        R.DISBURSEMENT_EXPIRED: set(),
        R.POSTED: set(),
    },
    error=CreditError,
)
