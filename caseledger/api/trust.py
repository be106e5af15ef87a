"""Trust API: balances per matter, create a disbursement request, approve it (posting it when
the last approval is in). POSTs honour ``Idempotency-Key``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from caseledger.api.idempotency import idempotent
from caseledger.api.types import Cents
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.permissions import require
from caseledger.ledger import accounts
from caseledger.matters.models import Matter
from caseledger.matters.selectors import matters_visible_to
from caseledger.trust import selectors, services
from caseledger.trust.choices import DisbursementStatus
from caseledger.trust.models import Disbursement

router = Router(tags=["trust"])


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "role", None) else request.user


class BalanceOut(Schema):
    matter_id: int
    matter: str
    client_id: int
    client: str
    balance_cents: int
    uncleared_cents: int
    disputed_cents: int
    available_cents: int
    threshold_cents: int
    low: bool


class DisbursementIn(Schema):
    matter_id: int
    payee: str
    amount_cents: Cents
    purpose: str
    method: str
    reference: str = ""
    memo: str = ""
    trust_account: str = Field(
        default="", description="code of the trust bank account; empty: the primary (1010)"
    )


class DisbursementOut(Schema):
    id: int
    number: str
    matter_id: int
    payee: str
    amount_cents: int
    purpose: str
    method: str
    status: str
    required_approvals: int
    approvals: list[str]
    posted_date: date | None
    note: str = ""


def disbursement_out(d: Disbursement, note: str = "") -> dict[str, Any]:
    return {
        "id": d.pk,
        "number": d.number,
        "matter_id": d.matter_id,
        "payee": d.payee,
        "amount_cents": d.amount_cents,
        "purpose": d.purpose,
        "method": d.method,
        "status": d.status,
        "required_approvals": d.required_approvals,
        "approvals": [
            a.approver.get_username() for a in d.approvals.select_related("approver").order_by("id")
        ],
        "posted_date": d.posted_date,
        "note": note,
    }


@router.get("/balances", response=list[BalanceOut], url_name="trust_balances")
def trust_balances(request: HttpRequest) -> list[dict[str, Any]]:
    user = _user(request)
    require(user, "trust.view")
    # The one rule of who sees which matters, as on /matters/ and /trust/.
    matters = matters_visible_to(user)
    return [
        {
            "matter_id": p.matter.pk,
            "matter": p.matter.number,
            "client_id": p.matter.client_id,
            "client": p.matter.client.name,
            "balance_cents": p.balance_cents,
            "uncleared_cents": p.uncleared_cents,
            "disputed_cents": p.disputed_cents,
            "available_cents": p.available_cents,
            "threshold_cents": p.threshold_cents,
            "low": p.is_low,
        }
        for p in selectors.trust_dashboard(clock.firm_today(), matters)
    ]


class DepositIn(Schema):
    matter_id: int
    method: str
    payer: str
    amount_cents: Cents
    received_date: date
    reference: str = ""
    trust_account: str = Field(
        default="", description="code of the trust bank account; empty: the primary (1010)"
    )


class DepositOut(Schema):
    id: int
    receipt_number: str
    matter_id: int
    client_id: int
    method: str
    payer: str
    amount_cents: int
    received_date: date
    reference: str
    trust_account: str


@router.post("/deposits", response={201: DepositOut}, url_name="trust_deposit_create")
def deposit_create(request: HttpRequest, payload: DepositIn) -> HttpResponse:
    """Record money received into trust for a matter's client (a receipt notice is queued)."""
    user = _user(request)
    require(user, "trust.deposit")

    def perform() -> tuple[int, Any]:
        matter = get_object_or_404(Matter, pk=payload.matter_id)
        require(user, "trust.deposit", matter)
        d = services.deposit_record(
            client=matter.client,
            matter=matter,
            method=payload.method,
            payer=payload.payer,
            reference=payload.reference,
            amount_cents=payload.amount_cents,
            received_date=payload.received_date,
            trust_account=payload.trust_account,
            actor=user,
            now=clock.now(),
        )
        return 201, {
            "id": d.pk,
            "receipt_number": d.receipt_number,
            "matter_id": d.matter_id,
            "client_id": d.client_id,
            "method": d.method,
            "payer": d.payer,
            "amount_cents": d.amount_cents,
            "received_date": d.received_date,
            "reference": d.reference,
            "trust_account": d.trust_account.code if d.trust_account else accounts.TRUST_BANK,
        }

    return idempotent(request, user=user, perform=perform)


@router.post(
    "/disbursements", response={201: DisbursementOut}, url_name="trust_disbursement_create"
)
def disbursement_create(request: HttpRequest, payload: DisbursementIn) -> HttpResponse:
    user = _user(request)
    require(user, "trust.disburse.request")

    def perform() -> tuple[int, Any]:
        matter = get_object_or_404(Matter, pk=payload.matter_id)
        require(user, "trust.disburse.request", matter)
        d = services.disbursement_request(
            matter=matter,
            payee=payload.payee,
            amount_cents=payload.amount_cents,
            purpose=payload.purpose,
            method=payload.method,
            reference=payload.reference,
            memo=payload.memo,
            trust_account=payload.trust_account,
            actor=user,
            now=clock.now(),
        )
        return 201, disbursement_out(d)

    return idempotent(request, user=user, perform=perform)


@router.post(
    "/disbursements/{disbursement_id}/approve",
    response={200: DisbursementOut},
    url_name="trust_disbursement_approve",
)
def disbursement_approve(request: HttpRequest, disbursement_id: int) -> HttpResponse:
    user = _user(request)
    require(user, "trust.disburse.approve")

    def perform() -> tuple[int, Any]:
        d = get_object_or_404(Disbursement, pk=disbursement_id)
        require(user, "trust.disburse.approve", d)
        now = clock.now()
        d = services.disbursement_approve(disbursement=d, approver=user, now=now)
        note = ""
        if d.status == DisbursementStatus.APPROVED:
            try:
                d = services.disbursement_post(disbursement=d, actor=user, now=now)
            except ApplicationError as exc:
                note = f"approved, not posted: {exc.message}"
        return 200, disbursement_out(d, note)

    return idempotent(request, user=user, perform=perform)
