"""Trust deposits: recording, clearing, reversing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.models import User
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Matter
from caseledger.trust import links, locks, selectors
from caseledger.trust.choices import (
    DepositMethod,
    TrustRequestStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    TrustDeposit,
    TrustRequest,
)
from caseledger.trust.services.common import (
    CHECK_NUMBER_REQUIRED,
    CLEARED_BEFORE_RECEIVED,
    DATE_IN_FUTURE,
    DEPOSIT_ALREADY_CLEARED,
    DEPOSIT_REVERSED_NO_CLEARING,
    METHOD_INVALID,
    PAYER_REQUIRED,
    REQUEST_NOT_OPEN,
    REQUEST_OTHER_MATTER,
    WIRE_REFERENCE_REQUIRED,
    _check_amount,
    _check_matter,
    _next_number,
)
from caseledger.trust.services.disbursements import trust_account_resolve
from caseledger.trust.services.notices import (
    NOTICE_RECEIPT_KIND,
    _client_email,
    _notice_queue,
    _receipt_notice,
)


def deposit_record(
    *,
    client: Client,
    matter: Matter,
    method: str,
    payer: str,
    amount_cents: int,
    received_date: date,
    actor: User | None,
    now: datetime,
    reference: str = "",
    trust_request: TrustRequest | None = None,
    fee_cents: int = 0,
    card_settled: bool = False,
    provider: str = "manual",
    provider_ref: str | None = None,
    trust_account: Any = None,
) -> TrustDeposit:
    """Money received into trust for one client and matter, credited to the client IN FULL.

    Dr trust bank, Cr client trust liability (amount). A card fee is expensed from operating in
    the same transaction (Dr card fees, Cr operating; a separate entry because the ledger keeps
    card-fee postings out of trust entries); where the processor paid trust out net of its fee,
    that operating credit is the top-up that makes the trust bank whole, so the trust bank still
    equals the client ledgers. A receipt notice is queued (exactly one).
    """
    _check_matter(client, matter)
    _check_deposit_input(
        method=method,
        payer=payer,
        reference=reference,
        amount_cents=amount_cents,
        fee_cents=fee_cents,
        received_date=received_date,
        typed=provider == "manual",
        today=clock.firm_date(now),
    )
    bank = trust_account_resolve(trust_account)
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        if trust_request is not None:
            trust_request = _lock_open_request(trust_request, matter)
        settings_row = selectors.trust_settings_get()
        clears_on = selectors.clearing_date(
            method=method,
            received_date=received_date,
            settings_row=settings_row,
            card_settled=card_settled,
        )
        receipt = _next_number("trust_receipt", "R")
        fee_netted = bool(fee_cents) and settings_row.processor_nets_fee
        entry, fee_entry = _post_deposit_entries(
            receipt=receipt,
            bank=bank,
            client=client,
            matter=matter,
            payer=payer.strip(),
            method=method,
            amount_cents=amount_cents,
            fee_cents=fee_cents,
            fee_netted=fee_netted,
            received_date=received_date,
            actor=actor,
            now=now,
        )
        deposit = TrustDeposit.objects.create(
            receipt_number=receipt,
            client=client,
            matter=matter,
            trust_request=trust_request,
            method=method,
            payer=payer.strip(),
            reference=reference.strip(),
            received_date=received_date,
            clears_on=clears_on,
            amount_cents=amount_cents,
            fee_cents=fee_cents,
            fee_netted=fee_netted,
            provider=provider,
            provider_ref=provider_ref,
            trust_account=bank,
            entry=entry,
            fee_entry=fee_entry,
            created_by=actor,
            created_at=now,
        )
        if trust_request is not None:
            _request_receive(trust_request, amount_cents)
        _notice_queue(
            key=f"trust.receipt:{deposit.pk}",
            kind=NOTICE_RECEIPT_KIND,
            related=deposit,
            to_email=_client_email(client),
            **_receipt_notice(deposit, url=links.receipt_url(deposit=deposit, at=now)),
            now=now,
        )
        audit.record(
            actor=actor,
            action="trust.deposit_recorded",
            at=now,
            obj=deposit,
            after={
                "amount_cents": amount_cents,
                "fee_cents": fee_cents,
                "method": method,
                "matter": matter.number,
                "clears_on": clears_on,
                "entry": entry.pk,
                "trust_account": bank.code,
                "trust_request": trust_request.number if trust_request else None,
            },
            actor_label=None if actor else f"payer via {provider}",
        )
    return deposit


def _check_deposit_input(
    *,
    method: str,
    payer: str,
    reference: str,
    amount_cents: int,
    fee_cents: int,
    received_date: date,
    typed: bool,
    today: date,
) -> None:
    """Refuse a deposit's bad input before anything is locked, naming the field: the amount
    (a typed one is held to the firm's ceiling; money a processor reports as received is
    recorded whatever its size), the method, the payer, the check number or wire reference, the
    card fee and the date."""
    _check_amount(amount_cents, ceiling=typed)
    if method not in DepositMethod.values:
        raise TrustError(
            METHOD_INVALID.format(choices=", ".join(DepositMethod.values), value=method),
            field="method",
        )
    if not payer.strip():
        raise TrustError(PAYER_REQUIRED, field="payer")
    if method == DepositMethod.CHECK and not reference.strip():
        raise TrustError(CHECK_NUMBER_REQUIRED, field="reference")
    if method == DepositMethod.WIRE and not reference.strip():
        raise TrustError(WIRE_REFERENCE_REQUIRED, field="reference")
    if fee_cents < 0 or fee_cents > amount_cents:
        raise TrustError(
            f"fee: must be between 0 and {firm_money(amount_cents)} (got {firm_money(fee_cents)})",
            field="fee",
        )
    clock.date_check(received_date, field="received_date")
    if received_date > today:
        raise TrustError(
            DATE_IN_FUTURE.format(today=today, date=received_date), field="received_date"
        )


def _lock_open_request(trust_request: TrustRequest, matter: Matter) -> TrustRequest:
    """The trust request the deposit answers, locked: refused when it is another matter's or
    cancelled."""
    trust_request = locks.lock_trust_request(trust_request.pk)
    if trust_request.matter_id != matter.pk:
        raise TrustError(REQUEST_OTHER_MATTER.format(request=trust_request), field="trust_request")
    if trust_request.status == TrustRequestStatus.CANCELLED:
        raise TrustError(
            REQUEST_NOT_OPEN.format(request=trust_request, status="cancelled"),
            field="trust_request",
        )
    return trust_request


def _post_deposit_entries(
    *,
    receipt: str,
    bank: Any,
    client: Client,
    matter: Matter,
    payer: str,
    method: str,
    amount_cents: int,
    fee_cents: int,
    fee_netted: bool,
    received_date: date,
    actor: User | None,
    now: datetime,
) -> tuple[Any, Any]:
    """The deposit's entry (Dr trust bank, Cr client trust liability, the full amount) and, with
    a card fee, the fee's own entry in the same transaction: the ledger keeps card-fee postings
    out of any entry that touches trust, so operating bears the fee (and, when the processor
    netted it out of the trust payout, this is operating's top-up of trust)."""
    memo = f"Trust receipt {receipt} from {payer} ({DepositMethod(method).label})"
    entry = entry_post(
        kind=EntryKind.TRUST_DEPOSIT,
        entry_date=received_date,
        memo=memo[:500],
        lines=[
            PostingLine(bank.code, amount_cents, client=client, matter=matter),
            PostingLine(
                accounts.CLIENT_TRUST_LIABILITY, -amount_cents, client=client, matter=matter
            ),
        ],
        actor=actor,
        now=now,
    )
    if not fee_cents:
        return entry, None
    fee_entry = entry_post(
        kind=EntryKind.CARD_FEE,
        entry_date=received_date,
        memo=(
            f"Card fee on trust receipt {receipt}"
            + ("; netted by the processor, operating tops up trust" if fee_netted else "")
        )[:500],
        lines=[
            PostingLine(accounts.CARD_PROCESSING_FEES, fee_cents),
            PostingLine(accounts.OPERATING_BANK, -fee_cents),
        ],
        actor=actor,
        now=now,
    )
    return entry, fee_entry


def _request_receive(trust_request: TrustRequest, amount_cents: int) -> None:
    """Count the deposit toward the request it answers: paid once it is covered."""
    received = trust_request.received_cents + amount_cents
    trust_request.received_cents = received
    trust_request.status = (
        TrustRequestStatus.PAID
        if received >= trust_request.amount_cents
        else TrustRequestStatus.PARTIALLY_PAID
    )
    trust_request.save(update_fields=["received_cents", "status"])


def deposit_mark_cleared(
    *, deposit: TrustDeposit, cleared_on: date, actor: User | None, now: datetime
) -> TrustDeposit:
    """Record that a deposit's funds have cleared (card settlement, or a bank confirming early)."""
    clock.date_check(cleared_on, field="cleared_on")
    with transaction.atomic():
        locks.lock_matter_trust(deposit.matter, now)
        deposit = locks.lock_deposit(deposit.pk)
        if deposit.reversals.filter(status="POSTED").exists():
            raise TrustError(DEPOSIT_REVERSED_NO_CLEARING.format(deposit=deposit), field="deposit")
        if deposit.clears_on is not None and deposit.clears_on <= clock.firm_date(now):
            raise TrustError(
                DEPOSIT_ALREADY_CLEARED.format(deposit=deposit, day=deposit.clears_on),
                field="deposit",
            )
        if cleared_on < deposit.received_date:
            raise TrustError(
                CLEARED_BEFORE_RECEIVED.format(received=deposit.received_date), field="cleared_on"
            )
        before = deposit.clears_on
        deposit.clears_on = cleared_on
        deposit.save(update_fields=["clears_on"])
        audit.record(
            actor=actor,
            action="trust.deposit_cleared",
            at=now,
            obj=deposit,
            before={"clears_on": before},
            after={"clears_on": cleared_on},
        )
    return deposit
