"""The payments workflows: which status may follow which (``core.transitions``).

Payments: a payment recorded by staff or a matching online one is received; an online payment
whose amount or currency was not what the checkout asked is held, then released (received, or
deposited to trust for a trust request) or rejected after review; a received payment may be
reversed (a reversing entry). Rejected, deposited to trust and reversed are final.

Refunds of unapplied credit (``payments.refunds``, ADR 009): a card refund is requested (sent
to the processor), then succeeds or fails; a failed one is requested again when a user retries
it (a new attempt). Check and transfer refunds are written as succeeded at once. Succeeded is
final.

The services keep their own refusal messages (``HOLD_NOT_HELD``, ``PAYMENT_NOT_REVERSIBLE``,
``refunds.TRANSITION_REFUSED``): they ask the table with ``can`` and word the refusal
themselves.
"""

from __future__ import annotations

from caseledger.core.transitions import StatusMachine
from caseledger.payments.choices import PaymentStatus, RefundStatus
from caseledger.payments.exceptions import PaymentError

P = PaymentStatus
PAYMENT_TRANSITIONS = StatusMachine(
    noun="payment",
    statuses=PaymentStatus,
    allowed={
        P.HELD: {P.RECEIVED, P.TO_TRUST, P.REJECTED},
        P.RECEIVED: {P.REVERSED},
        P.REJECTED: set(),
        P.TO_TRUST: set(),
        P.REVERSED: set(),
    },
    error=PaymentError,
)

R = RefundStatus
CREDIT_REFUND_TRANSITIONS = StatusMachine(
    noun="refund",
    statuses=RefundStatus,
    allowed={
        R.REQUESTED: {R.SUCCEEDED, R.FAILED},
        R.FAILED: {R.REQUESTED},
        R.SUCCEEDED: set(),
    },
)
