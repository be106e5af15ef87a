"""Ledger API: trial balance, chart of accounts, journal entry detail (read-only)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Day, Id, Limit, Offset
from caseledger.core.permissions import require
from caseledger.ledger import selectors
from caseledger.ledger.models import JournalEntry

router = Router(tags=["ledger"])

ENTRY_NOT_FOUND = "entry_id: no journal entry {entry_id}"


class AccountOut(Schema):
    code: str
    name: str
    account_type: str
    normal_balance: str
    is_trust: bool
    is_active: bool
    currency: str
    balance_cents: int  # normal-balance sign


class TrialBalanceRowOut(Schema):
    code: str
    name: str
    debit_cents: int
    credit_cents: int


class TrialBalanceOut(Schema):
    as_of: date | None
    rows: list[TrialBalanceRowOut]
    total_debit_cents: int
    total_credit_cents: int
    balanced: bool


class PostingOut(Schema):
    account: str
    amount_cents: int  # + debit, - credit
    client_id: int | None
    matter_id: int | None
    invoice_id: int | None


class EntryOut(Schema):
    id: int
    entry_date: date
    kind: str
    memo: str
    currency: str
    reverses_id: int | None
    reversed_by_id: int | None
    postings: list[PostingOut]


class ErrorOut(Schema):
    error: dict


@router.get("/accounts", response=Page[AccountOut], url_name="ledger_accounts")
def accounts(request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> dict:
    """The chart of accounts with balances; ``count`` and ``next`` page through it."""
    require(request.user, "ledger.view")
    rows = [
        AccountOut(
            code=a.code,
            name=a.name,
            account_type=a.account_type,
            normal_balance=a.normal_balance,
            is_trust=a.is_trust,
            is_active=a.is_active,
            currency=a.currency,
            balance_cents=a.balance.balance_cents * a.sign,
        )
        for a in selectors.account_list()
    ]
    return paginate(request, rows, limit=limit, offset=offset, serialize=list)


@router.get("/trial-balance", response=TrialBalanceOut, url_name="ledger_trial_balance")
def trial_balance(request: HttpRequest, as_of: Day | None = None) -> TrialBalanceOut:
    require(request.user, "ledger.view")
    tb = selectors.trial_balance(as_of=as_of)
    return TrialBalanceOut(
        as_of=tb.as_of,
        rows=[
            TrialBalanceRowOut(
                code=r.account.code,
                name=r.account.name,
                debit_cents=r.debit_cents,
                credit_cents=r.credit_cents,
            )
            for r in tb.rows
        ],
        total_debit_cents=tb.total_debit_cents,
        total_credit_cents=tb.total_credit_cents,
        balanced=tb.balanced,
    )


@router.get(
    "/entries/{entry_id}",
    response={200: EntryOut, 404: ErrorOut},
    url_name="ledger_entry_detail",
)
def entry_detail(request: HttpRequest, entry_id: Id) -> Status:
    require(request.user, "ledger.view")
    try:
        entry = selectors.entry_get(entry_id=entry_id)
    except JournalEntry.DoesNotExist:
        return Status(
            404,
            {
                "error": {
                    "code": "not_found",
                    "message": ENTRY_NOT_FOUND.format(entry_id=entry_id),
                    "field": "entry_id",
                }
            },
        )
    reversed_by = selectors.entry_reversed_by(entry=entry)
    return Status(
        200,
        EntryOut(
            id=entry.pk,
            entry_date=entry.entry_date,
            kind=entry.kind,
            memo=entry.memo,
            currency=entry.currency,
            reverses_id=entry.reverses_id,
            reversed_by_id=reversed_by.pk if reversed_by else None,
            postings=[
                PostingOut(
                    account=p.account.code,
                    amount_cents=p.amount_cents,
                    client_id=p.client_id,
                    matter_id=p.matter_id,
                    invoice_id=p.invoice_id,
                )
                for p in selectors.entry_postings(entry=entry)
            ],
        ),
    )
