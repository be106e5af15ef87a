"""Hooks the payments app registers at start-up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from caseledger.payments.choices import InvoicePaymentState


class InvoiceMoneyProvider:
    """What billing's invoice pages read through ``billing.hooks`` (see its docstring)."""

    states = InvoicePaymentState.choices

    @staticmethod
    def money(invoices: Iterable[Any], *, as_of: date) -> dict[int, Any]:
        from caseledger.payments.selectors import invoice_money

        return invoice_money(invoices, as_of=as_of)

    @staticmethod
    def annotate(invoices: Any, *, as_of: date) -> Any:
        from caseledger.payments.selectors import invoice_money_annotate

        return invoice_money_annotate(invoices, as_of=as_of)

    @staticmethod
    def tally(*, status: str, partner_id: int | None) -> Any:
        from caseledger.payments.selectors import invoice_tally

        return invoice_tally(status=status, partner_id=partner_id)


def connect() -> None:
    from caseledger.billing import hooks
    from caseledger.core.forms import register_form_token_store
    from caseledger.payments.selectors import invoice_payment_activity
    from caseledger.payments.services import form_token_consume, invoice_issued_listener

    hooks.register_invoice_issued_listener(invoice_issued_listener)
    hooks.register_invoice_money_provider(InvoiceMoneyProvider)
    hooks.register_invoice_activity_listener(invoice_payment_activity)
    register_form_token_store(form_token_consume)
