"""What a client reads for the codes the apps below store (invoice payment state, deadline kind,
credit reason, refund method and status, payment method, document kind, trust request
kind), in the portal's
catalog so each has its Spanish. The staff pages keep the apps' own English labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {
    "state": {
        "draft": _("Draft"),
        "open": _("Open"),
        "partly_paid": _("Partly paid"),
        "overdue": _("Overdue"),
        "paid": _("Paid"),
        "credited": _("Credited"),
        "written_off": _("Written off"),
        "void": _("Void"),
    },
    "deadline": {
        "RFE_RESPONSE": _("Response to a request for evidence (RFE/NOID) due"),
        "STATUS_EXPIRY": _("Visa or status expires"),
        "HEARING": _("Hearing"),
        "FILING_WINDOW": _("Filing window"),
        "OTHER": _("Other"),
    },
    "reason": {
        "OVERPAYMENT": _("Overpayment"),
        "DUPLICATE_PAYMENT": _("Duplicate payment"),
        "SCOPE_CHANGE": _("Change in the scope of work"),
        "SCOPE_REDUCTION": _("Less work than agreed"),
        "BILLING_ERROR": _("Billing error"),
        "COURTESY_DISCOUNT": _("Courtesy discount"),
        "FEE_WAIVER": _("Fee waiver"),
        "OTHER": _("Other"),
    },
    "refund_method": {
        "CHECK": _("Check"),
        "TRANSFER": _("Bank transfer"),
        "CARD": _("Back to your card"),
        "TRUST": _("From your trust account"),
    },
    "refund_status": {
        "POSTED": _("Refunded"),
        "CARD_REQUESTED": _("Sent to the card processor"),
        "CARD_FAILED": _("The card processor refused it; the firm will contact you"),
        "AWAITING_DISBURSEMENT": _("Being approved by the firm"),
        "DISBURSEMENT_APPROVED": _("Approved, on its way"),
        "DISBURSEMENT_REJECTED": _("Not approved; the firm will contact you"),
        "DISBURSEMENT_EXPIRED": _("Expired; the firm will contact you"),
    },
    "method": {
        "CARD": _("Card"),
        "ACH": _("Bank transfer (ACH)"),
        "CHECK": _("Check"),
        "WIRE": _("Wire transfer"),
        "CASH": _("Cash"),
    },
    "document": {
        "RECEIPT_NOTICE": _("Receipt notice (I-797C)"),
        "APPROVAL_NOTICE": _("Approval notice (I-797)"),
        "RFE": _("Request for evidence (RFE)"),
        "RFE_RESPONSE": _("Our response to the request for evidence"),
        "INTERVIEW_NOTICE": _("Interview notice"),
        "DECISION": _("Decision"),
        "OTHER": _("Document"),
    },
    "trust_kind": {
        "RETAINER": _("Retainer"),
        "REPLENISHMENT": _("Retainer top-up"),
    },
}


def label(value: str, group: str) -> str:
    """The client-facing label of ``value`` in ``group`` (the code itself when unknown)."""
    return str(LABELS.get(group, {}).get(str(value), value))
