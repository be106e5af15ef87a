"""Which credit notes wait for the client's authorization: one waiting for the firm's approval
that returns money to the client (``refund_cents`` > 0), when the client has an active portal
login to authorize it with. Registered as a credits approval gate (portal/apps.py)."""

from __future__ import annotations

from typing import Any

from caseledger.credits.choices import CreditNoteStatus

AWAITING_CLIENT = (
    "client_authorization: {document} refunds {refund} to the client, who has not authorized "
    "it yet in the client portal"
)


def needs_client_authorization(credit_note: Any) -> bool:
    return (
        credit_note.status == CreditNoteStatus.PENDING_APPROVAL
        and credit_note.refund_cents > 0
        and credit_note.client.portal_users.filter(is_active=True).exists()
    )


def approval_gate(credit_note: Any) -> str:
    from caseledger.core.amounts import firm_money
    from caseledger.portal.models import RefundAuthorization

    if not needs_client_authorization(credit_note):
        return ""
    if RefundAuthorization.objects.filter(credit_note_id=credit_note.pk).exists():
        return ""
    return AWAITING_CLIENT.format(
        document=credit_note.number or f"credit note #{credit_note.pk}",
        refund=firm_money(credit_note.refund_cents),
    )
