"""What a client reads for the codes the apps below store (invoice payment state, deadline kind,
credit reason, refund method and status, payment method, document kind, trust request
kind, and the default case type and stage names), in the portal's
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
    # Case types and stages are the firm's rows; the ones it has not renamed (the defaults the
    # migrations load) are read in the client's language, a renamed one as the firm wrote it.
    "case_type": {
        "Consultation": _("Consultation"),
        "H-1B cap petition": _("H-1B cap petition"),
        "H-1B extension": _("H-1B extension"),
        "H-1B transfer (change of employer)": _("H-1B transfer (change of employer)"),
        "PERM labor certification": _("PERM labor certification"),
        "I-140 immigrant petition for alien worker": _("I-140 immigrant petition for alien worker"),
        "I-130 family petition": _("I-130 family petition"),
        "I-485 adjustment of status": _("I-485 adjustment of status"),
        "K-1 fiancé(e) visa": _("K-1 fiancé(e) visa"),
        "N-400 naturalization": _("N-400 naturalization"),
        "Asylum (I-589)": _("Asylum (I-589)"),
        "Removal defense": _("Removal defense"),
        "RFE / NOID response": _("RFE / NOID response"),
        "Appeal or motion (AAO / BIA)": _("Appeal or motion (AAO / BIA)"),
        "L-1 intracompany transferee petition": _("L-1 intracompany transferee petition"),
        "O-1 extraordinary ability petition": _("O-1 extraordinary ability petition"),
        "I-765 employment authorization": _("I-765 employment authorization"),
        "I-131 advance parole / travel document": _("I-131 advance parole / travel document"),
        "I-539 extension or change of status (e.g. H-4)": _(
            "I-539 extension or change of status (e.g. H-4)"
        ),
        "I-751 removal of conditions": _("I-751 removal of conditions"),
        "I-90 green card renewal": _("I-90 green card renewal"),
        "Consular processing (immigrant visa)": _("Consular processing (immigrant visa)"),
    },
    "stage": {
        "Advice letter sent": _("Advice letter sent"),
        "Applications for relief filed": _("Applications for relief filed"),
        "Audit": _("Audit"),
        "Biometrics": _("Biometrics"),
        "Brief prepared": _("Brief prepared"),
        "Certified": _("Certified"),
        "Closed": _("Closed"),
        "Consular interview": _("Consular interview"),
        "Consultation held": _("Consultation held"),
        "Declaration prepared": _("Declaration prepared"),
        "Documents collected": _("Documents collected"),
        "DS-260 submitted": _("DS-260 submitted"),
        "ETA-9089 filed": _("ETA-9089 filed"),
        "Evidence gathered": _("Evidence gathered"),
        "Filed": _("Filed"),
        "USCIS immigrant fee paid": _("USCIS immigrant fee paid"),
        "Individual hearing": _("Individual hearing"),
        "Intake": _("Intake"),
        "Interview": _("Interview"),
        "Interview scheduled": _("Interview scheduled"),
        "LCA filed": _("LCA filed"),
        "Master calendar hearing": _("Master calendar hearing"),
        "NVC fees paid": _("NVC fees paid"),
        "NVC processing": _("NVC processing"),
        "Oath ceremony": _("Oath ceremony"),
        "Petition approved": _("Petition approved"),
        "Petition filed": _("Petition filed"),
        "Petition prepared": _("Petition prepared"),
        "Prepare filing": _("Prepare filing"),
        "Prevailing wage determined": _("Prevailing wage determined"),
        "Prevailing wage requested": _("Prevailing wage requested"),
        "Receipt received": _("Receipt received"),
        "Recruitment": _("Recruitment"),
        "Response filed": _("Response filed"),
        "Response prepared": _("Response prepared"),
        "RFE": _("RFE"),
        "Scheduled": _("Scheduled"),
        "Visa issued": _("Visa issued"),
        "Decision": _("Decision"),
    },
    "trust_kind": {
        "RETAINER": _("Retainer"),
        "REPLENISHMENT": _("Retainer top-up"),
    },
}


def label(value: str, group: str) -> str:
    """The client-facing label of ``value`` in ``group`` (the code itself when unknown)."""
    return str(LABELS.get(group, {}).get(str(value), value))
