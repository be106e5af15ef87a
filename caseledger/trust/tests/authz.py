"""Authorization matrix for the trust pages and API (format: caseledger/core/tests/
test_authz_matrix.py). Objects belong to a matter whose team is ctx.users' attorney and
paralegal, so those roles are judged by capability."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.core.tests.authz import PUBLIC
from caseledger.payments.tests.authz import issued, team_matter

VIEW = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "PARALEGAL", "BILLING", "OPERATIONS"})
DEPOSIT = frozenset({"ADMIN", "PARTNER", "BILLING"})
REQUEST = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "BILLING"})
APPLY = frozenset({"ADMIN", "PARTNER", "BILLING"})
DISPUTE = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "BILLING"})
DISBURSE_REQUEST = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "PARALEGAL", "BILLING"})
APPROVE = frozenset({"PARTNER", "ATTORNEY"})
POST = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "BILLING"})
SETTINGS = frozenset({"ADMIN", "PARTNER"})
RECEIPT = VIEW | {"CLIENT"}
DAY = date(2026, 10, 1)


def funded_matter(ctx: Any, cents: int = 100_000) -> Any:
    from caseledger.trust.services import deposit_record

    matter = team_matter(ctx)
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W1",
        amount_cents=cents,
        received_date=DAY,
        actor=None,
        now=ctx.now,
    )
    return matter


def matter_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": funded_matter(ctx).pk}


def client_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": funded_matter(ctx).client_id}


def deposit_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.trust.models import TrustDeposit

    matter = funded_matter(ctx)
    return {"pk": TrustDeposit.objects.get(matter=matter).pk}


def receipt_token_kwargs(ctx: Any) -> dict[str, Any]:
    from django.utils import timezone

    from caseledger.trust.links import receipt_token
    from caseledger.trust.models import TrustDeposit

    deposit = TrustDeposit.objects.get(matter=funded_matter(ctx))
    # Signed now: the link's age is checked against the wall clock when it is opened.
    return {"token": receipt_token(deposit=deposit, at=timezone.now())}


def dispute_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.trust.services import dispute_hold_create

    matter = funded_matter(ctx)
    hold = dispute_hold_create(
        matter=matter,
        amount_cents=1_000,
        reason="fee dispute",
        actor=ctx.users["PARTNER"],
        now=ctx.now,
    )
    return {"pk": hold.pk}


def request_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _request(ctx, team_matter(ctx)).pk}


def _request(ctx: Any, matter: Any) -> Any:
    from caseledger.trust.services import trust_request_create

    return trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=100_000,
        due_date=date(2026, 11, 30),
        actor=None,
        now=ctx.now,
        send=False,
    )


def disbursement(ctx: Any, approved: bool = False) -> Any:
    from caseledger.core import clock
    from caseledger.trust.services import disbursement_approve, disbursement_request

    matter = funded_matter(ctx)
    # Requested today: the pages act on the real clock, and a request expires (30 days).
    today = clock.now()
    d = disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=10_000,
        purpose="FILING_FEE",
        method="CHECK",
        actor=ctx.users["PARALEGAL"],
        now=today,
    )
    if approved:
        d = disbursement_approve(disbursement=d, approver=ctx.users["PARTNER"], now=today)
    return d


def requested_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": disbursement(ctx).pk}


def approved_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": disbursement(ctx, approved=True).pk}


def api_approve_kwargs(ctx: Any) -> dict[str, Any]:
    return {"disbursement_id": disbursement(ctx).pk}


def invoice_kwargs(ctx: Any) -> dict[str, Any]:
    return {"invoice_id": issued(ctx).pk}


def deposit_json(ctx: Any) -> dict[str, Any]:
    return {
        "matter_id": team_matter(ctx).pk,
        "method": "WIRE",
        "payer": "Acme",
        "amount_cents": 50_000,
        "received_date": "2026-10-01",
        "reference": "W9",
    }


def disbursement_json(ctx: Any) -> dict[str, Any]:
    return {
        "matter_id": funded_matter(ctx).pk,
        "payee": "USCIS",
        "amount_cents": 46_000,
        "purpose": "FILING_FEE",
        "method": "CHECK",
        "reference": "chk 1",
    }


def reversal_kwargs(ctx: Any) -> dict[str, Any]:
    """A deposit reversal above the firm's threshold, waiting for a partner; asked by billing."""
    from caseledger.trust.corrections import deposit_reversal_request
    from caseledger.trust.models import TrustDeposit

    matter = funded_matter(ctx, cents=500_000)
    reversal = deposit_reversal_request(
        deposit=TrustDeposit.objects.get(matter=matter),
        reason="check returned unpaid",
        actor=ctx.users["BILLING"],
        now=ctx.now,
    )
    return {"pk": reversal.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "trust:dashboard": {"allow": VIEW},
    "trust:settings": {"allow": SETTINGS},
    "trust:matter": {"allow": VIEW, "kwargs": matter_kwargs},
    "trust:dispute_new": {
        "allow": DISPUTE,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"amount": "10.00", "reason": "client disputes the fee"},
    },
    "trust:threshold": {
        "allow": SETTINGS,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"threshold": "500.00"},
    },
    "trust:dispute_release": {"allow": DISPUTE, "method": "POST", "kwargs": dispute_kwargs},
    "trust:client": {"allow": VIEW, "kwargs": client_kwargs},
    "trust:statement_pdf": {"allow": VIEW, "kwargs": client_kwargs},
    "trust:deposit_new": {"allow": DEPOSIT},
    "trust:receipt_pdf": {"allow": RECEIPT, "kwargs": deposit_kwargs},
    # Anyone holding the signed link from the receipt email, signed in or not.
    "trust:client_receipt": {"allow": PUBLIC, "kwargs": receipt_token_kwargs},
    "trust:deposit_clear": {"allow": DEPOSIT, "method": "POST", "kwargs": deposit_kwargs},
    "trust:deposit_detail": {"allow": VIEW, "kwargs": deposit_kwargs},
    "trust:deposit_reverse": {
        "allow": DEPOSIT,
        "method": "POST",
        "kwargs": deposit_kwargs,
        "data": {"reason": "recorded on the wrong matter"},
    },
    "trust:deposit_reversal_approve": {
        "allow": frozenset({"PARTNER"}),
        "method": "POST",
        "kwargs": reversal_kwargs,
    },
    "trust:deposit_reversal_reject": {
        "allow": DEPOSIT,
        "method": "POST",
        "kwargs": reversal_kwargs,
    },
    "trust:requests": {"allow": VIEW},
    "trust:request_new": {"allow": REQUEST},
    "trust:request_detail": {"allow": VIEW, "kwargs": request_kwargs},
    "trust:request_cancel": {"allow": REQUEST, "method": "POST", "kwargs": request_kwargs},
    "trust:disbursements": {"allow": VIEW},
    "trust:disbursement_new": {"allow": DISBURSE_REQUEST},
    "trust:disbursement_approve": {"allow": APPROVE, "method": "POST", "kwargs": requested_kwargs},
    "trust:disbursement_post": {"allow": POST, "method": "POST", "kwargs": approved_kwargs},
    "trust:disbursement_reject": {
        "allow": DISBURSE_REQUEST,
        "method": "POST",
        "kwargs": requested_kwargs,
    },
    "trust:apply_to_invoice": {"allow": APPLY, "kwargs": invoice_kwargs},
    "GET /api/v1/trust/balances": {"allow": VIEW},
    "POST /api/v1/trust/deposits": {"allow": DEPOSIT, "json": deposit_json},
    "POST /api/v1/trust/disbursements": {"allow": DISBURSE_REQUEST, "json": disbursement_json},
    "POST /api/v1/trust/disbursements/{disbursement_id}/approve": {
        "allow": APPROVE,
        "kwargs": api_approve_kwargs,
    },
}
