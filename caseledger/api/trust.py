"""Trust API: balances per matter, create a disbursement request, approve it (posting it when
the last approval is in). POSTs honour ``Idempotency-Key`` (applied to every POST in
``api.api``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Cents, Day, Id, Limit, Offset, choice, column
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.permissions import require
from caseledger.ledger import accounts
from caseledger.matters.models import Matter
from caseledger.matters.selectors import matters_visible_to
from caseledger.trust import selectors, services
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    DisbursementStatus,
)
from caseledger.trust.models import Disbursement, TrustDeposit

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
    matter_id: Id
    payee: column(Disbursement, "payee", min_length=1)  # type: ignore[valid-type]
    amount_cents: Cents
    purpose: choice(DisbursementPurpose)  # type: ignore[valid-type]
    method: choice(DisbursementMethod)  # type: ignore[valid-type]
    reference: column(Disbursement, "reference") = ""  # type: ignore[valid-type]
    memo: column(Disbursement, "memo") = ""  # type: ignore[valid-type]
    trust_account: str = Field(
        default="",
        max_length=4,
        description="code of the trust bank account; empty: the primary (1010)",
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


@router.get("/balances", response=Page[BalanceOut], url_name="trust_balances")
def trust_balances(
    request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """Trust balance per matter the user may see; ``count`` and ``next`` page through them."""
    user = _user(request)
    require(user, "trust.view")
    # The one rule of who sees which matters, as on /matters/ and /trust/. The page of matters
    # is cut in the database; only its rows' balances are read (four queries for any page).
    matters = selectors.trust_matters(matters_visible_to(user))
    today = clock.firm_today()

    def serialize(window: list[Matter]) -> list[dict[str, Any]]:
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
            for p in selectors.trust_positions(window, today)
        ]

    return paginate(request, matters, limit=limit, offset=offset, serialize=serialize)


class DepositIn(Schema):
    matter_id: Id
    method: choice(DepositMethod)  # type: ignore[valid-type]
    payer: column(TrustDeposit, "payer")  # type: ignore[valid-type]
    amount_cents: Cents
    received_date: Day
    reference: column(TrustDeposit, "reference") = ""  # type: ignore[valid-type]
    trust_account: str = Field(
        default="",
        max_length=4,
        description="code of the trust bank account; empty: the primary (1010)",
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
def deposit_create(request: HttpRequest, payload: DepositIn) -> Status[dict[str, object]]:
    """Record money received into trust for a matter's client (a receipt notice is queued)."""
    user = _user(request)
    require(user, "trust.deposit")

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
    return Status(
        201,
        {
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
        },
    )


@router.post(
    "/disbursements", response={201: DisbursementOut}, url_name="trust_disbursement_create"
)
def disbursement_create(request: HttpRequest, payload: DisbursementIn) -> Status[dict[str, Any]]:
    user = _user(request)
    require(user, "trust.disburse.request")
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
    return Status(201, disbursement_out(d))


@router.post(
    "/disbursements/{disbursement_id}/approve",
    response={200: DisbursementOut},
    url_name="trust_disbursement_approve",
)
def disbursement_approve(request: HttpRequest, disbursement_id: Id) -> dict[str, Any]:
    user = _user(request)
    require(user, "trust.disburse.approve")
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
    return disbursement_out(d, note)
