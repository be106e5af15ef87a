"""Writes of the credits app: credit notes (request, approve, reject, issue), refunds, write-offs;
import them from here.

Every public function takes keyword-only arguments and ``now``, runs in one transaction, records
an audit event, moves money only through ``ledger.services.entry_post`` and changes the invoice's
balance only on the payments app's settlement row, locked first (lock order: matter -> trust
balance -> invoice -> payment).

Modules: ``credit_notes`` (request, approve, reject), ``issue`` (numbering, the entry, the paid
part returned to its sources), ``refunds`` (card and trust refunds and the hooks they follow),
``write_offs``, ``settings`` (approval reasons, thresholds), ``sources`` (what paid an invoice)
and ``common`` (helpers).
"""

from caseledger.credits.services.credit_notes import (
    LineInput,
    credit_note_approve,
    credit_note_reject,
    credit_note_request,
)
from caseledger.credits.services.issue import NUMBER_FORMAT
from caseledger.credits.services.refunds import (
    card_refund_follow,
    trust_refund_follow_disbursement,
    trust_refund_request_again,
)
from caseledger.credits.services.settings import credit_settings_update, firm_thresholds
from caseledger.credits.services.sources import CreditSource, invoice_credit_sources
from caseledger.credits.services.write_offs import (
    write_off_approve,
    write_off_reject,
    write_off_request,
    write_off_reverse,
)

__all__ = [
    "NUMBER_FORMAT",
    "CreditSource",
    "LineInput",
    "card_refund_follow",
    "credit_note_approve",
    "credit_note_reject",
    "credit_note_request",
    "credit_settings_update",
    "firm_thresholds",
    "invoice_credit_sources",
    "trust_refund_follow_disbursement",
    "trust_refund_request_again",
    "write_off_approve",
    "write_off_reject",
    "write_off_request",
    "write_off_reverse",
]
