"""Hooks the payments app registers at start-up."""

from __future__ import annotations


def connect() -> None:
    from caseledger.billing import hooks
    from caseledger.payments.services import invoice_issued_listener

    hooks.register_invoice_issued_listener(invoice_issued_listener)
