"""Hooks the payments app registers at start-up."""

from __future__ import annotations


def connect() -> None:
    from caseledger.billing import hooks
    from caseledger.core.forms import register_form_token_store
    from caseledger.payments.services import form_token_consume, invoice_issued_listener

    hooks.register_invoice_issued_listener(invoice_issued_listener)
    register_form_token_store(form_token_consume)
