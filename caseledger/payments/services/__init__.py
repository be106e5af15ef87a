"""Payments: record, allocate, apply and refund unapplied credit, and online checkout events;
import them from here.

Every write runs in one transaction, takes its locks through ``payments.locks`` in the global
order (matter -> trust balance -> invoice -> payment), posts exactly one balanced journal entry
through ``ledger.services.entry_post`` and records one audit event.

Modules: ``recording`` (money received), ``unapplied_credit`` (applied to invoices or a
receivable, given back by a credit note), ``credit_refunds`` (paid back by check, transfer or
card), ``checkout`` (opening an online checkout, per-purpose handlers), ``checkout_events``
(provider webhooks, exactly once), ``held`` (held online payments), ``settlements``,
``form_tokens``; ``common`` holds what several share.
"""

from caseledger.payments.services.checkout import (
    CHECKOUT_LINES_MISMATCH,
    checkout_create,
    register_checkout_handler,
)
from caseledger.payments.services.checkout_events import (
    AMOUNT_MISMATCH,
    CURRENCY_MISMATCH,
    checkout_event_process,
)
from caseledger.payments.services.common import (
    ALLOC_INVOICE_NOT_ISSUED,
    ALLOC_INVOICE_TWICE,
    ALLOC_INVOICE_VOID,
    ALLOC_NOT_POSITIVE,
    ALLOC_OTHER_CLIENT,
    ALLOC_OVER_BALANCE,
    ALLOC_OVER_UNAPPLIED,
    AMOUNT_NOT_POSITIVE,
    PAYMENT_NOT_RECEIVED,
    Allocation,
)
from caseledger.payments.services.credit_refunds import (
    REFUND_METHOD_INVALID,
    REFUND_OVER_UNAPPLIED,
    unapplied_credit_refund,
)
from caseledger.payments.services.form_tokens import form_token_consume
from caseledger.payments.services.held import (
    HOLD_NOT_HELD,
    held_payment_reject,
    held_payment_release,
)
from caseledger.payments.services.recording import (
    ALLOC_OVER_PAYMENT,
    CHECK_NUMBER_REQUIRED,
    DATE_IN_FUTURE,
    FEE_INVALID,
    MATTER_OTHER_CLIENT,
    METHOD_INVALID,
    PAYER_REQUIRED,
    WIRE_REFERENCE_REQUIRED,
    payment_record,
)
from caseledger.payments.services.settlements import (
    INVOICE_NOT_ISSUED_FOR_SETTLEMENT,
    invoice_issued_listener,
    settlement_apply,
    settlement_for,
)
from caseledger.payments.services.unapplied_credit import (
    ALLOC_EMPTY,
    ALLOC_RECEIVABLE_OTHER_CLIENT,
    CREDIT_ADD_CURRENCY,
    CREDIT_ADD_OTHER_CLIENT,
    CREDIT_ADD_OVER_PAYMENT,
    CREDIT_ADD_REASON_REQUIRED,
    CREDIT_NONE,
    payment_allocate,
    payment_credit_apply_to_receivable,
    payment_unapplied_credit_add,
    unapplied_credit_apply,
)

__all__ = [
    "ALLOC_EMPTY",
    "ALLOC_INVOICE_NOT_ISSUED",
    "ALLOC_INVOICE_TWICE",
    "ALLOC_INVOICE_VOID",
    "ALLOC_NOT_POSITIVE",
    "ALLOC_OTHER_CLIENT",
    "ALLOC_OVER_BALANCE",
    "ALLOC_OVER_PAYMENT",
    "ALLOC_OVER_UNAPPLIED",
    "ALLOC_RECEIVABLE_OTHER_CLIENT",
    "AMOUNT_MISMATCH",
    "AMOUNT_NOT_POSITIVE",
    "CHECKOUT_LINES_MISMATCH",
    "CHECK_NUMBER_REQUIRED",
    "CREDIT_ADD_CURRENCY",
    "CREDIT_ADD_OTHER_CLIENT",
    "CREDIT_ADD_OVER_PAYMENT",
    "CREDIT_ADD_REASON_REQUIRED",
    "CREDIT_NONE",
    "CURRENCY_MISMATCH",
    "DATE_IN_FUTURE",
    "FEE_INVALID",
    "HOLD_NOT_HELD",
    "INVOICE_NOT_ISSUED_FOR_SETTLEMENT",
    "MATTER_OTHER_CLIENT",
    "METHOD_INVALID",
    "PAYER_REQUIRED",
    "PAYMENT_NOT_RECEIVED",
    "REFUND_METHOD_INVALID",
    "REFUND_OVER_UNAPPLIED",
    "WIRE_REFERENCE_REQUIRED",
    "Allocation",
    "checkout_create",
    "checkout_event_process",
    "form_token_consume",
    "held_payment_reject",
    "held_payment_release",
    "invoice_issued_listener",
    "payment_allocate",
    "payment_credit_apply_to_receivable",
    "payment_record",
    "payment_unapplied_credit_add",
    "register_checkout_handler",
    "settlement_apply",
    "settlement_for",
    "unapplied_credit_apply",
    "unapplied_credit_refund",
]
