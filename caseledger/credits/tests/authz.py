"""Authorization matrix entries for the credits pages (format: core/tests/test_authz_matrix.py)."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

VIEW = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value})
APPROVE = frozenset({Role.ADMIN.value, Role.PARTNER.value})


def _invoice(ctx: Any) -> Any:
    from caseledger.credits.tests import factories as F

    return F.invoice(matter_obj=F.matter(), cents=100_000)


def _pending_note(ctx: Any) -> dict[str, Any]:
    from caseledger.credits.choices import ReasonCode
    from caseledger.credits.services import credit_note_request

    note = credit_note_request(
        invoice=_invoice(ctx),
        reason_code=ReasonCode.FEE_WAIVER,
        amount_cents=1_000,
        actor=ctx.users[Role.BILLING.value],
        now=ctx.now,
    )
    return {"pk": note.pk}


def _issued_note(ctx: Any) -> dict[str, Any]:
    from caseledger.credits.choices import ReasonCode
    from caseledger.credits.services import credit_note_request

    note = credit_note_request(
        invoice=_invoice(ctx),
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=1_000,
        actor=ctx.users[Role.BILLING.value],
        now=ctx.now,
    )
    return {"pk": note.pk}


def _note_refund(ctx: Any) -> dict[str, Any]:
    """A refund row on an issued note (operating: the allowed roles get the refusal message)."""
    from caseledger.credits.choices import RefundMethod, RefundSource, RefundStatus
    from caseledger.credits.models import CreditNote, CreditRefund

    note = CreditNote.objects.get(pk=_issued_note(ctx)["pk"])
    refund = CreditRefund.objects.create(
        credit_note=note,
        client_id=note.client_id,
        matter_id=note.matter_id,
        source=RefundSource.OPERATING,
        method=RefundMethod.CHECK,
        status=RefundStatus.POSTED,
        amount_cents=100,
        refund_date=ctx.now.date(),
        created_by=ctx.users[Role.BILLING.value],
        created_at=ctx.now,
    )
    return {"pk": note.pk, "refund_pk": refund.pk}


def _pending_write_off(ctx: Any) -> dict[str, Any]:
    from caseledger.credits.services import write_off_request

    wo = write_off_request(
        invoice=_invoice(ctx),
        reason="Bad debt",
        actor=ctx.users[Role.BILLING.value],
        now=ctx.now,
    )
    return {"pk": wo.pk}


def _posted_write_off(ctx: Any) -> dict[str, Any]:
    from caseledger.credits.services import write_off_request

    wo = write_off_request(
        invoice=_invoice(ctx),
        amount_cents=1_000,
        reason="Small balance",
        actor=ctx.users[Role.BILLING.value],
        now=ctx.now,
    )
    return {"pk": wo.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "credits:credit_note_list": {"allow": VIEW},
    "credits:credit_note_create": {"allow": VIEW},
    "credits:credit_note_detail": {"allow": VIEW, "kwargs": _issued_note},
    "credits:credit_note_pdf": {"allow": VIEW, "kwargs": _issued_note},
    "credits:trust_refund_request_again": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _note_refund,
    },
    "credits:credit_note_approve": {"allow": APPROVE, "method": "POST", "kwargs": _pending_note},
    "credits:credit_note_reject": {
        "allow": APPROVE,
        "method": "POST",
        "kwargs": _pending_note,
        "data": {"note": "no"},
    },
    "credits:write_off_list": {"allow": VIEW},
    "credits:write_off_create": {"allow": VIEW},
    "credits:write_off_detail": {"allow": VIEW, "kwargs": _posted_write_off},
    "credits:write_off_approve": {"allow": APPROVE, "method": "POST", "kwargs": _pending_write_off},
    "credits:write_off_reject": {
        "allow": APPROVE,
        "method": "POST",
        "kwargs": _pending_write_off,
        "data": {"note": "no"},
    },
    "credits:write_off_reverse": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _posted_write_off,
        "data": {"reason": "paid"},
    },
    "credits:report": {"allow": VIEW},
    "credits:settings": {"allow": APPROVE},
}
