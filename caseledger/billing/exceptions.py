"""Billing's domain errors. Messages are module constants in the modules that raise them."""

from __future__ import annotations

from caseledger.core.exceptions import ApplicationError, InvalidTransition


class BillingError(ApplicationError):
    code = "billing_invalid"


class PayerRuleViolation(BillingError):
    code = "payer_rule"


class InvoiceImmutable(BillingError):
    code = "invoice_immutable"


class InvoiceTransitionError(InvalidTransition):
    code = "invalid_transition"


class LedesInvalid(BillingError):
    code = "ledes_invalid"


class MatterOnHold(BillingError):
    code = "matter_on_hold"
