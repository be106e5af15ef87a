"""Trust (IOLTA) writes: trust requests, deposits, earned-fee transfers, disputes,
disbursements with approvals, low-balance follow-up.

Rules enforced here (and by the ledger's own checks behind them), with no override:
- a matter's trust balance is checked only after ``locks.lock_matter_trust`` and in the same
  transaction as the entry that moves it;
- only cleared, undisputed money moves (``TrustPosition.available_cents``);
- trust pays the firm only against an issued invoice, never more than its unpaid amount, never
  dated before it;
- money leaves trust to anyone else only through an approved disbursement.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.billing.selectors import fee_charged_elsewhere, matter_fee_codes_charged
from caseledger.clients.models import Client
from caseledger.core import audit, clock, outbox
from caseledger.core.amounts import amount_check, amount_check_optional, firm_money
from caseledger.core.choices import LAWYER_ROLES, Role
from caseledger.core.i18n import client_language, long_date
from caseledger.core.models import User
from caseledger.core.numbering import counter_next
from caseledger.core.selectors import firm_get
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.choices import MatterStatus
from caseledger.matters.models import Matter
from caseledger.payments import locks as payment_locks
from caseledger.payments.services import settlement_apply
from caseledger.trust import hooks, links, locks, selectors
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    DisbursementStatus,
    DisputeStatus,
    TrustRequestKind,
    TrustRequestStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.labels import METHODS, REQUEST_KINDS
from caseledger.trust.models import (
    Disbursement,
    DisbursementApproval,
    DisputeHold,
    MatterTrust,
    TrustCounter,
    TrustDeposit,
    TrustRequest,
    TrustSettings,
    TrustTransfer,
)
from caseledger.trust.transitions import DISBURSEMENT_TRANSITIONS

AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
MATTER_OTHER_CLIENT = "matter: {matter} belongs to another client"
PAYER_REQUIRED = "payer: who paid is required"
PAYEE_REQUIRED = "payee: who is paid is required"
PURPOSE_INVALID = "purpose: must be one of {choices} (got {value!r})"
METHOD_INVALID = "method: must be one of {choices} (got {value!r})"
KIND_INVALID = "kind: must be one of {choices} (got {value!r})"
CHECK_NUMBER_REQUIRED = "reference: a check deposit needs the check number"
WIRE_REFERENCE_REQUIRED = "reference: a wire deposit needs the wire reference"
DATE_IN_FUTURE = "received_date: cannot be after today ({today}) (got {date})"
DUE_BEFORE_ISSUE = "due_date: cannot be before the issue date {issue} (got {due})"
REQUEST_NOT_OPEN = "trust_request: {request} is {status}; it takes no more payments"
REQUEST_OTHER_MATTER = "trust_request: {request} is for another matter"
REQUEST_CANNOT_CANCEL = (
    "trust_request: {request} is {status}; only an unpaid request can be cancelled"
)
DEPOSIT_REVERSED_NO_CLEARING = "deposit: {deposit} was reversed; its money never clears"
DEPOSIT_ALREADY_CLEARED = "deposit: {deposit} already cleared on {day}"
CLEARED_BEFORE_RECEIVED = "cleared_on: cannot be before the deposit was received ({received})"
INVOICE_VOID = "invoice: {invoice} is void; trust cannot pay it"
INVOICE_NOT_ISSUED = (
    "invoice: {invoice} is not issued; trust moves to operating only against an issued invoice"
)
OVER_UNPAID = "amount: {amount} exceeds the unpaid amount of invoice {invoice} ({unpaid})"
OVER_AVAILABLE = (
    "amount: {amount} exceeds the cleared trust funds available on matter {matter} ({available}; "
    "uncleared {uncleared}, disputed {disputed})"
)
NOTHING_AVAILABLE = "amount: matter {matter} has no cleared, undisputed trust funds available"
OVER_PROMISED = (
    "amount: {amount} exceeds the trust funds of matter {matter} not promised to USCIS: "
    "{available} cleared, {promised} of it for government fees that issued invoices show as "
    "paid from trust ({fees}); pay those fees first"
)
FEE_PROMISE_UNCOVERED = (
    "invoice: approved invoice #{invoice} shows {fees} as paid from trust, but matter {matter} "
    "has {available} of "
    "cleared trust funds for {promised} of fees paid from trust; deposit the fee first, or mark "
    "the line advanced by the firm or paid by the client directly"
)
NOTHING_DUE = "invoice: {invoice} has nothing left to pay"
TRANSFER_BEFORE_INVOICE = (
    "transfer_date: cannot be before the invoice's issue date {issue} (got {date})"
)
TRANSFER_IN_FUTURE = "transfer_date: cannot be after today ({today}) (got {date})"
DISPUTE_OVER_BALANCE = (
    "amount: {amount} exceeds the trust balance not already disputed on matter {matter} ({free})"
)
DISPUTE_REASON_REQUIRED = "reason: say what is disputed"
DISPUTE_NOT_OPEN = "dispute: already released"
APPROVER_NOT_LAWYER = "approver: only partners and attorneys may approve disbursements (got {role})"
APPROVER_IS_REQUESTER = "approver: the requester cannot approve their own disbursement"
APPROVER_TWICE = (
    "approver: {name} has already approved {disbursement}; "
    "the second approval must come from another lawyer"
)
DISBURSEMENT_NOT_APPROVED = (
    "disbursement: {disbursement} needs {required} approval(s) and has {count}"
)
DISBURSEMENT_EXPIRED = "disbursement: {disbursement} expired on {day}"
REJECTER_NOT_LAWYER = "actor: only partners and attorneys may reject disbursements (got {role})"
THRESHOLD_NEGATIVE = "threshold: must be zero or more (got {amount})"
CLEAR_DAYS_INVALID = "{field}: must be between 0 and 30 business days (got {value})"

LOW_BALANCE_TASK_KEY = "trust.low_balance:{matter_id}"


def _next_number(name: str, prefix: str) -> str:
    return f"{prefix}-{counter_next(TrustCounter, name=name):06d}"


def _check_matter(client: Client, matter: Matter) -> None:
    if matter.client_id != client.pk:
        raise TrustError(MATTER_OTHER_CLIENT.format(matter=matter), field="matter")


def _check_amount(amount_cents: int, *, ceiling: bool = True) -> None:
    """Positive and (for an amount someone typed) within the firm's ceiling."""
    if ceiling:
        amount_check(amount_cents)
    if amount_cents <= 0:
        raise TrustError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )


# --- settings --------------------------------------------------------------------------------


def trust_settings_update(
    *,
    actor: User,
    now: datetime,
    low_balance_threshold_cents: int,
    auto_replenish: bool,
    check_clear_days: int,
    ach_clear_days: int,
    wire_clear_days: int,
    cash_clear_days: int,
    processor_nets_fee: bool,
    disbursement_expiry_days: int,
) -> TrustSettings:
    amount_check(low_balance_threshold_cents, field="threshold")
    if low_balance_threshold_cents < 0:
        raise TrustError(
            THRESHOLD_NEGATIVE.format(amount=firm_money(low_balance_threshold_cents)),
            field="threshold",
        )
    days = {
        "check_clear_days": check_clear_days,
        "ach_clear_days": ach_clear_days,
        "wire_clear_days": wire_clear_days,
        "cash_clear_days": cash_clear_days,
    }
    for field, value in days.items():
        if not 0 <= value <= 30:
            raise TrustError(CLEAR_DAYS_INVALID.format(field=field, value=value), field=field)
    with transaction.atomic():
        row = selectors.trust_settings_get()
        before = {
            "low_balance_threshold_cents": row.low_balance_threshold_cents,
            "auto_replenish": row.auto_replenish,
            "processor_nets_fee": row.processor_nets_fee,
            "disbursement_expiry_days": row.disbursement_expiry_days,
            **{f: getattr(row, f) for f in days},
        }
        row.low_balance_threshold_cents = low_balance_threshold_cents
        row.auto_replenish = auto_replenish
        row.processor_nets_fee = processor_nets_fee
        row.disbursement_expiry_days = max(disbursement_expiry_days, 1)
        for field, value in days.items():
            setattr(row, field, value)
        row.save()
        after = {k: getattr(row, k) for k in before}
        b, a = audit.diff(before, after)
        audit.record(
            actor=actor, action="trust.settings_updated", at=now, obj=row, before=b, after=a
        )
    return row


def matter_threshold_set(
    *, matter: Matter, threshold_cents: int | None, actor: User, now: datetime
) -> MatterTrust:
    """Set a matter's low-balance threshold (None: the firm default)."""
    amount_check_optional(threshold_cents, field="threshold")
    if threshold_cents is not None and threshold_cents < 0:
        raise TrustError(
            THRESHOLD_NEGATIVE.format(amount=firm_money(threshold_cents)), field="threshold"
        )
    with transaction.atomic():
        row = locks.lock_matter_trust(matter, now)
        before = row.low_balance_threshold_cents
        row.low_balance_threshold_cents = threshold_cents
        row.updated_at = now
        row.save(update_fields=["low_balance_threshold_cents", "updated_at"])
        audit.record(
            actor=actor,
            action="trust.threshold_set",
            at=now,
            obj=matter,
            before={"threshold_cents": before},
            after={"threshold_cents": threshold_cents},
        )
        low_balance_check(matter=matter, now=now)
    return row


# --- notices ---------------------------------------------------------------------------------


def _client_email(client: Client) -> str:
    try:
        from caseledger.clients.selectors import client_billing_email

        return client_billing_email(client) or client.email
    except ImportError:
        return client.email


NOTICE_RECEIPT_KIND = "trust.receipt"
NOTICE_REQUEST_KIND = "trust.request"


def _notice_queue(
    *,
    key: str,
    kind: str,
    to_email: str,
    subject: str,
    body: str,
    related: models.Model,
    now: datetime,
) -> None:
    """A trust email to the client through the one outbox, in the caller's transaction: keyed
    per deposit (receipt) or request, so it leaves at most once, and it is retried until it does
    (a crash after the claim is recovered and resent with the same Message-ID)."""
    outbox.enqueue(
        key=key, kind=kind, to=[to_email], subject=subject, body=body, related=related, now=now
    )


def _request_notice(request: TrustRequest, *, pay_url: str) -> dict[str, str]:
    """A trust request's email, in the client's language."""
    client = request.client
    with client_language(client):
        kind = REQUEST_KINDS.get(request.kind, request.get_kind_display().lower())
        return {
            "subject": gettext("%(firm)s: %(kind)s %(number)s")
            % {"firm": firm_get().name, "kind": kind, "number": request.number},
            "body": gettext(
                "Dear %(client)s,\n\nPlease deposit %(amount)s into our client trust account "
                "for %(matter)s by %(date)s.\nThese funds stay yours in trust until fees are "
                "earned and invoiced.\n\nPay online: %(url)s\n"
            )
            % {
                "client": client.name,
                "amount": firm_money(request.amount_cents),
                "matter": request.matter,
                "date": long_date(request.due_date),
                "url": pay_url,
            },
        }


def _receipt_notice(deposit: TrustDeposit, *, url: str) -> dict[str, str]:
    """The notice of a receipt into trust, in the client's language, with the receipt's link."""
    client = deposit.client
    with client_language(client):
        method = str(METHODS.get(deposit.method, deposit.get_method_display()))
        if deposit.reference:
            method = f"{method}, {deposit.reference}"
        values = {
            "client": client.name,
            "amount": firm_money(deposit.amount_cents),
            "payer": deposit.payer,
            "date": long_date(deposit.received_date),
            "method": method,
            "matter": deposit.matter,
            "receipt": deposit.receipt_number,
            "days": links.RECEIPT_LINK_DAYS,
            "url": url,
        }
        clears = (
            gettext("The funds clear on %(date)s.") % {"date": long_date(deposit.clears_on)}
            if deposit.clears_on
            else gettext("The funds clear when the card processor settles them.")
        )
        body = (
            gettext(
                "Dear %(client)s,\n\nWe received %(amount)s from %(payer)s on %(date)s "
                "(%(method)s) and deposited it in our client trust account for %(matter)s."
            )
            % values
            + "\n"
            + clears
            + "\n\n"
            + gettext(
                "Your receipt %(receipt)s (PDF, no sign-in needed; the link works for %(days)s "
                "days):"
            )
            % values
            + f"\n{url}\n"
        )
        return {
            "subject": gettext("%(firm)s: trust receipt %(receipt)s")
            % {"firm": firm_get().name, "receipt": deposit.receipt_number},
            "body": body,
        }


# --- trust requests --------------------------------------------------------------------------


def trust_request_create(
    *,
    client: Client,
    matter: Matter,
    kind: str,
    amount_cents: int,
    due_date: date,
    actor: User | None,
    now: datetime,
    memo: str = "",
    send: bool = True,
) -> TrustRequest:
    """A retainer or replenishment request with its own number and payment link; emailed to
    the client (outbox) when ``send``."""
    from caseledger.payments.links import trust_request_pay_url

    _check_matter(client, matter)
    _check_amount(amount_cents)
    if kind not in TrustRequestKind.values:
        raise TrustError(
            KIND_INVALID.format(choices=", ".join(TrustRequestKind.values), value=kind),
            field="kind",
        )
    clock.date_check(due_date, field="due_date")
    issue = clock.firm_date(now)
    if due_date < issue:
        raise TrustError(DUE_BEFORE_ISSUE.format(issue=issue, due=due_date), field="due_date")
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        request = TrustRequest.objects.create(
            number=_next_number("trust_request", "TR"),
            client=client,
            matter=matter,
            kind=kind,
            amount_cents=amount_cents,
            issue_date=issue,
            due_date=due_date,
            memo=memo,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="trust.request_created",
            at=now,
            obj=request,
            after={"kind": kind, "amount_cents": amount_cents, "matter": matter.number},
            actor_label=None if actor else "system:low-trust",
        )
        if send:
            _notice_queue(
                key=f"trust.request:{request.pk}",
                kind=NOTICE_REQUEST_KIND,
                related=request,
                to_email=_client_email(client),
                **_request_notice(request, pay_url=trust_request_pay_url(request.pk)),
                now=now,
            )
    return request


def trust_request_cancel(*, request: TrustRequest, actor: User, now: datetime) -> TrustRequest:
    with transaction.atomic():
        request = locks.lock_trust_request(request.pk)
        if request.status != TrustRequestStatus.OPEN:
            raise TrustError(
                REQUEST_CANNOT_CANCEL.format(
                    request=request, status=request.get_status_display().lower()
                ),
                field="trust_request",
            )
        request.status = TrustRequestStatus.CANCELLED
        request.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="trust.request_cancelled",
            at=now,
            obj=request,
            before={"status": TrustRequestStatus.OPEN},
            after={"status": request.status},
        )
    return request


# --- deposits --------------------------------------------------------------------------------


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
    # Money a processor reports as received is recorded whatever its size; a typed amount is
    # held to the firm's ceiling.
    _check_amount(amount_cents, ceiling=provider == "manual")
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
    bank = trust_account_resolve(trust_account)
    if fee_cents < 0 or fee_cents > amount_cents:
        raise TrustError(
            f"fee: must be between 0 and {firm_money(amount_cents)} (got {firm_money(fee_cents)})",
            field="fee",
        )
    clock.date_check(received_date, field="received_date")
    today = clock.firm_date(now)
    if received_date > today:
        raise TrustError(
            DATE_IN_FUTURE.format(today=today, date=received_date), field="received_date"
        )
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        if trust_request is not None:
            trust_request = locks.lock_trust_request(trust_request.pk)
            if trust_request.matter_id != matter.pk:
                raise TrustError(
                    REQUEST_OTHER_MATTER.format(request=trust_request), field="trust_request"
                )
            if trust_request.status == TrustRequestStatus.CANCELLED:
                raise TrustError(
                    REQUEST_NOT_OPEN.format(request=trust_request, status="cancelled"),
                    field="trust_request",
                )
        settings_row = selectors.trust_settings_get()
        clears_on = selectors.clearing_date(
            method=method,
            received_date=received_date,
            settings_row=settings_row,
            card_settled=card_settled,
        )
        receipt = _next_number("trust_receipt", "R")
        lines = [
            PostingLine(bank.code, amount_cents, client=client, matter=matter),
            PostingLine(
                accounts.CLIENT_TRUST_LIABILITY, -amount_cents, client=client, matter=matter
            ),
        ]
        fee_netted = bool(fee_cents) and settings_row.processor_nets_fee
        memo = f"Trust receipt {receipt} from {payer.strip()} ({DepositMethod(method).label})"
        entry = entry_post(
            kind=EntryKind.TRUST_DEPOSIT,
            entry_date=received_date,
            memo=memo[:500],
            lines=lines,
            actor=actor,
            now=now,
        )
        fee_entry = None
        if fee_cents:
            # The ledger keeps card-fee postings out of any entry that touches trust, so the
            # fee is its own entry in the SAME transaction: operating bears it (and, when the
            # processor netted it out of the trust payout, this is operating's top-up of trust).
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
            received = trust_request.received_cents + amount_cents
            trust_request.received_cents = received
            trust_request.status = (
                TrustRequestStatus.PAID
                if received >= trust_request.amount_cents
                else TrustRequestStatus.PARTIALLY_PAID
            )
            trust_request.save(update_fields=["received_cents", "status"])
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


# --- earned fees -----------------------------------------------------------------------------


def trust_apply_to_invoice(
    *,
    invoice: Invoice,
    actor: User | None,
    now: datetime,
    amount_cents: int | None = None,
    transfer_date: date | None = None,
    automatic: bool = False,
    trust_account: Any = None,
) -> TrustTransfer:
    """Move earned fees from the matter's trust to operating against an issued invoice.

    One entry (TRUST_TRANSFER_EARNED): Dr client trust liability, Cr trust bank; Dr operating
    bank, Cr accounts receivable — all carrying the invoice. ``amount_cents`` None: as much as the
    cleared funds and the unpaid amount allow. Raises TrustError (nothing moved) when the invoice
    is not issued, the amount exceeds its unpaid amount or the available cleared funds, or the
    date is before the invoice.
    """
    matter = invoice.matter
    client = invoice.client
    day = clock.date_check(transfer_date or clock.firm_date(now), field="transfer_date")
    bank = trust_account_resolve(trust_account)
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        invoice.refresh_from_db(fields=["status"])
        if invoice.status == InvoiceStatus.VOID:
            raise TrustError(INVOICE_VOID.format(invoice=invoice), field="invoice")
        if invoice.status != InvoiceStatus.ISSUED or invoice.issue_date is None:
            raise TrustError(INVOICE_NOT_ISSUED.format(invoice=invoice), field="invoice")
        if day < invoice.issue_date:
            raise TrustError(
                TRANSFER_BEFORE_INVOICE.format(issue=invoice.issue_date, date=day),
                field="transfer_date",
            )
        if day > clock.firm_date(now):
            raise TrustError(
                TRANSFER_IN_FUTURE.format(today=clock.firm_date(now), date=day),
                field="transfer_date",
            )
        settlement = payment_locks.lock_invoice_settlement(invoice)
        unpaid = settlement.balance_due_cents
        position = selectors.trust_position(matter, as_of=day)
        if day != clock.firm_date(now):
            # A back-dated transfer must fit both on its date and today (later outflows).
            current = selectors.trust_position(matter, as_of=clock.firm_date(now))
            if current.available_cents < position.available_cents:
                position = current
        typed = amount_cents is not None
        if amount_cents is None:
            if unpaid <= 0:
                raise TrustError(NOTHING_DUE.format(invoice=invoice), field="invoice")
            in_account = selectors.account_available_cents(matter, bank, clock.firm_date(now))
            free = position.available_cents - _promised_cents(matter)[0]
            if min(free, in_account) <= 0:
                raise TrustError(NOTHING_AVAILABLE.format(matter=matter.number), field="amount")
            amount_cents = min(unpaid, free, in_account)
        # The whole unpaid amount may exceed the ceiling for a single amount; a typed one may not.
        _check_amount(amount_cents, ceiling=typed)
        if amount_cents > unpaid:
            raise TrustError(
                OVER_UNPAID.format(
                    amount=firm_money(amount_cents), invoice=invoice, unpaid=firm_money(unpaid)
                ),
                field="amount",
            )
        if amount_cents > position.available_cents:
            raise TrustError(
                OVER_AVAILABLE.format(
                    amount=firm_money(amount_cents),
                    matter=matter.number,
                    available=firm_money(position.available_cents),
                    uncleared=firm_money(position.uncleared_cents),
                    disputed=firm_money(position.disputed_cents),
                ),
                field="amount",
            )
        _check_promises(amount_cents=amount_cents, matter=matter, position=position)
        _check_account_available(
            amount_cents=amount_cents, matter=matter, account=bank, as_of=clock.firm_date(now)
        )
        entry = entry_post(
            kind=EntryKind.TRUST_TRANSFER_EARNED,
            entry_date=day,
            memo=f"Earned fees: trust applied to invoice {invoice}"
            + (" (auto-apply)" if automatic else ""),
            lines=[
                PostingLine(
                    accounts.CLIENT_TRUST_LIABILITY,
                    amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
                PostingLine(
                    bank.code,
                    -amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
                PostingLine(
                    accounts.OPERATING_BANK,
                    amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
                PostingLine(
                    accounts.ACCOUNTS_RECEIVABLE,
                    -amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
            ],
            actor=actor,
            now=now,
        )
        transfer = TrustTransfer.objects.create(
            invoice=invoice,
            client=client,
            matter=matter,
            amount_cents=amount_cents,
            transfer_date=day,
            automatic=automatic,
            trust_account=bank,
            entry=entry,
            created_by=actor,
            created_at=now,
        )
        settlement_apply(settlement=settlement, paid_cents=amount_cents, now=now)
        audit.record(
            actor=actor,
            action="trust.applied_to_invoice",
            at=now,
            obj=transfer,
            after={
                "invoice": str(invoice),
                "amount_cents": amount_cents,
                "automatic": automatic,
                "balance_due_cents": settlement.balance_due_cents,
                "entry": entry.pk,
            },
            actor_label=None if actor else "system:auto-apply",
        )
        low_balance_check(matter=matter, now=now)
    return transfer


def auto_apply_lock(invoice: Invoice) -> None:
    """Billing issue-lock hook: for a client who auto-applies trust, lock the matter's trust
    balance before billing locks the invoice (the global lock order), as ``auto_apply_on_issue``
    will move trust money later in the same transaction."""
    if getattr(invoice.client, "auto_apply_trust", False):
        locks.lock_matter_trust(invoice.matter, clock.now())


def auto_apply_on_issue(invoice: Invoice) -> None:
    """Billing issue hook: for a client who chose auto-apply, available cleared trust on the
    invoice's matter pays it at once (partly or wholly), inside the issuing transaction, dated
    the invoice's issue date (the hook carries no clock; the issue date is the issuing day)."""
    if not getattr(invoice.client, "auto_apply_trust", False) or invoice.issue_date is None:
        return
    now = clock.now()
    day = invoice.issue_date
    if day > clock.firm_date(now):
        return
    position = selectors.trust_position(invoice.matter, as_of=day)
    if position.available_cents - _promised_cents(invoice.matter)[0] <= 0:
        return  # nothing cleared that is not promised to USCIS
    # Auto-apply draws from the primary trust account only (a person chooses any other).
    primary = selectors.primary_trust_account()
    if selectors.account_available_cents(invoice.matter, primary, clock.firm_date(now)) <= 0:
        return
    trust_apply_to_invoice(invoice=invoice, actor=None, now=now, transfer_date=day, automatic=True)


# --- disputes --------------------------------------------------------------------------------


def dispute_hold_create(
    *, matter: Matter, amount_cents: int, reason: str, actor: User, now: datetime
) -> DisputeHold:
    _check_amount(amount_cents)
    if not reason.strip():
        raise TrustError(DISPUTE_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        position = selectors.trust_position(matter, as_of=clock.firm_date(now))
        free = position.balance_cents - position.disputed_cents
        if amount_cents > free:
            raise TrustError(
                DISPUTE_OVER_BALANCE.format(
                    amount=firm_money(amount_cents),
                    matter=matter.number,
                    free=firm_money(max(free, 0)),
                ),
                field="amount",
            )
        hold = DisputeHold.objects.create(
            client_id=matter.client_id,
            matter=matter,
            amount_cents=amount_cents,
            reason=reason.strip(),
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="trust.dispute_opened",
            at=now,
            obj=hold,
            after={"amount_cents": amount_cents, "reason": hold.reason, "matter": matter.number},
        )
    return hold


def dispute_hold_release(
    *, hold: DisputeHold, actor: User, now: datetime, note: str = ""
) -> DisputeHold:
    with transaction.atomic():
        locks.lock_matter_trust(hold.matter, now)
        hold = locks.lock_dispute_hold(hold.pk)
        if hold.status != DisputeStatus.OPEN:
            raise TrustError(DISPUTE_NOT_OPEN, field="dispute")
        hold.status = DisputeStatus.RELEASED
        hold.released_by = actor
        hold.released_at = now
        hold.release_note = note[:300]
        hold.save(update_fields=["status", "released_by", "released_at", "release_note"])
        audit.record(
            actor=actor,
            action="trust.dispute_released",
            at=now,
            obj=hold,
            before={"status": DisputeStatus.OPEN},
            after={"status": hold.status, "note": note},
        )
    return hold


# --- disbursements ---------------------------------------------------------------------------


TRUST_ACCOUNT_INVALID = (
    "trust_account: {code} is not one of the firm's active trust bank accounts ({choices})"
)
OVER_ACCOUNT_AVAILABLE = (
    "amount: {amount} exceeds what matter {matter} has cleared in trust account {account} "
    "({available}); money leaves a trust account only from what the matter holds in it"
)


def trust_account_resolve(trust_account: Any = None) -> Any:
    """The trust bank account a movement uses: ``trust_account`` (a ledger Account or its
    code), or the firm's primary trust account (1010) when None or "". Raises TrustError
    naming ``trust_account`` unless it is an active trust bank account."""
    accounts_ = selectors.trust_bank_accounts()
    if trust_account is None or trust_account == "":
        code = accounts.TRUST_BANK
    else:
        code = str(getattr(trust_account, "code", trust_account)).strip()
    for account in accounts_:
        if account.code == code:
            return account
    raise TrustError(
        TRUST_ACCOUNT_INVALID.format(
            code=code, choices=", ".join(f"{a.code} {a.name}" for a in accounts_)
        ),
        field="trust_account",
    )


def _check_account_available(
    *, amount_cents: int, matter: Matter, account: Any, as_of: date
) -> None:
    """Refuse (TrustError on ``amount``) spending more from ``account`` than the matter has
    cleared there; the caller holds the matter's trust lock."""
    available = selectors.account_available_cents(matter, account, as_of)
    if amount_cents > available:
        raise TrustError(
            OVER_ACCOUNT_AVAILABLE.format(
                amount=firm_money(amount_cents),
                matter=matter.number,
                account=f"{account.code} {account.name}",
                available=firm_money(max(available, 0)),
            ),
            field="amount",
        )


def _promised_cents(matter: Matter, *, fee_code: str = "") -> tuple[int, str]:
    """What the matter's trust owes USCIS for fees issued invoices show as paid from trust and
    no disbursement pays yet (except ``fee_code``), and the fees for the message."""
    promises = selectors.trust_fee_promises(matter, exclude_fee_code=fee_code)
    fees = ", ".join(f"{p.fee_code} {firm_money(p.amount_cents)} on {p.invoice}" for p in promises)
    return sum(p.amount_cents for p in promises), fees


def _check_promises(
    *, amount_cents: int, matter: Matter, position: selectors.TrustPosition, fee_code: str = ""
) -> None:
    """Refuse spending trust money promised to USCIS (``selectors.trust_fee_promises``); the
    caller holds the matter's trust lock. A filing-fee disbursement for a promised fee spends
    its own promise (``fee_code``)."""
    promised, fees = _promised_cents(matter, fee_code=fee_code)
    if promised and amount_cents > position.available_cents - promised:
        raise TrustError(
            OVER_PROMISED.format(
                amount=firm_money(amount_cents),
                matter=matter.number,
                available=firm_money(position.available_cents),
                promised=firm_money(promised),
                fees=fees,
            ),
            field="amount",
        )


def fee_promise_lock(invoice: Invoice) -> None:
    """Billing issue-lock hook: an invoice showing government fees paid from trust locks the
    matter's trust balance before billing locks the invoice (the global lock order), as
    ``fee_promise_check`` reads it later in the same transaction."""
    from caseledger.billing.choices import FeePath

    if invoice.lines.filter(fee_path=FeePath.FROM_TRUST).exists():
        locks.lock_matter_trust(invoice.matter, clock.now())


def fee_promise_check(invoice: Invoice) -> None:
    """Billing issue hook (inside the issuing transaction, before auto-apply): an invoice may
    show a government fee as paid from trust only when the matter's cleared trust covers every
    fee so promised and not yet disbursed; otherwise the issue is refused (rolled back)."""
    matter = invoice.matter
    promises = selectors.trust_fee_promises(matter)
    mine = [p for p in promises if p.invoice_id == invoice.pk]
    if not mine:
        return
    promised = sum(p.amount_cents for p in promises)
    position = selectors.trust_position(matter, as_of=clock.firm_date(clock.now()))
    if promised > position.available_cents:
        raise TrustError(
            FEE_PROMISE_UNCOVERED.format(
                invoice=invoice.pk,  # its number is rolled back with the issue
                fees=", ".join(
                    f"the {p.fee_code} fee ({firm_money(p.amount_cents)})" for p in mine
                ),
                matter=matter.number,
                available=firm_money(position.available_cents),
                promised=firm_money(promised),
            ),
            field="invoice",
        )


def _over_available(
    amount_cents: int, matter: Matter, position: selectors.TrustPosition
) -> TrustError:
    return TrustError(
        OVER_AVAILABLE.format(
            amount=firm_money(amount_cents),
            matter=matter.number,
            available=firm_money(position.available_cents),
            uncleared=firm_money(position.uncleared_cents),
            disputed=firm_money(position.disputed_cents),
        ),
        field="amount",
    )


def _changed(disbursement: Disbursement, previous: str, actor: User | None, now: datetime) -> None:
    """Tell the registered listeners (``trust.hooks``) inside the changing transaction."""
    hooks.disbursement_changed(
        hooks.DisbursementChange(disbursement=disbursement, previous=previous, actor=actor, now=now)
    )


GOVERNMENT_PAYEE = re.compile(
    r"\b(DHS|USCIS|homeland security|citizenship and immigration)\b", re.IGNORECASE
)
FEE_ALREADY_CHARGED = (
    "fee_code: the {code} fee of matter {matter} was already {where}; paying it from trust too "
    "would charge the client twice"
)
FEE_CODE_NEEDED = (
    "fee_code: say which government fee this filing fee to {payee} pays: matter {matter} "
    "already has government fees billed or advanced ({codes})"
)


def _government_fee_check(*, matter: Matter, payee: str, purpose: str, fee_code: str) -> None:
    """Refuse a filing fee to DHS/USCIS for a fee the firm already billed or advanced on the
    matter (billing ADR 011), naming the invoice or the advance. Without a fee code it is
    refused only when the matter has any billed or advanced government fee."""
    if purpose != DisbursementPurpose.FILING_FEE:
        return
    if fee_code:
        where = fee_charged_elsewhere(matter_id=matter.pk, fee_code=fee_code)
        if where:
            raise TrustError(
                FEE_ALREADY_CHARGED.format(code=fee_code, matter=matter.number, where=where),
                field="fee_code",
            )
        return
    if GOVERNMENT_PAYEE.search(payee):
        codes = matter_fee_codes_charged(matter_id=matter.pk)
        if codes:
            raise TrustError(
                FEE_CODE_NEEDED.format(
                    payee=payee.strip(), matter=matter.number, codes=", ".join(codes)
                ),
                field="fee_code",
            )


def fee_paid_from_trust(matter_id: int, fee_code: str) -> str | None:
    """For billing: the posted or pending disbursement paying ``fee_code`` of the matter."""
    row = (
        Disbursement.objects.filter(
            matter_id=matter_id,
            fee_code=fee_code,
            status__in=[
                DisbursementStatus.REQUESTED,
                DisbursementStatus.APPROVED,
                DisbursementStatus.POSTED,
            ],
        )
        .order_by("id")
        .first()
    )
    if row is None:
        return None
    state = f"posted {row.posted_date}" if row.posted_date else row.get_status_display().lower()
    return f"disbursement {row.number}, {state}"


def disbursement_request(
    *,
    matter: Matter,
    payee: str,
    amount_cents: int,
    purpose: str,
    method: str,
    actor: User,
    now: datetime,
    reference: str = "",
    memo: str = "",
    credit_note_ref: str = "",
    trust_account: Any = None,
    fee_code: str = "",
) -> Disbursement:
    """Ask to pay ``amount_cents`` out of the matter's trust. Refused at once when the cleared,
    undisputed funds do not cover it (and checked again, under lock, when it posts). A filing
    fee to DHS/USCIS names the government fee it pays (``fee_code``) and is refused when that
    fee was already billed or advanced by the firm (checked again when it posts)."""
    fee_code = fee_code.strip().upper()
    _check_amount(amount_cents)
    if not payee.strip():
        raise TrustError(PAYEE_REQUIRED, field="payee")
    if purpose not in DisbursementPurpose.values:
        raise TrustError(
            PURPOSE_INVALID.format(choices=", ".join(DisbursementPurpose.values), value=purpose),
            field="purpose",
        )
    if method not in DisbursementMethod.values:
        raise TrustError(
            METHOD_INVALID.format(choices=", ".join(DisbursementMethod.values), value=method),
            field="method",
        )
    bank = trust_account_resolve(trust_account)
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)  # the matter first, then its trust row
        _government_fee_check(matter=matter, payee=payee, purpose=purpose, fee_code=fee_code)
        position = selectors.trust_position(matter, as_of=clock.firm_date(now))
        if amount_cents > position.available_cents:
            raise _over_available(amount_cents, matter, position)
        _check_promises(
            amount_cents=amount_cents,
            matter=matter,
            position=position,
            fee_code=fee_code if purpose == DisbursementPurpose.FILING_FEE else "",
        )
        _check_account_available(
            amount_cents=amount_cents, matter=matter, account=bank, as_of=clock.firm_date(now)
        )
        threshold = firm_get().disbursement_dual_approval_cents
        settings_row = selectors.trust_settings_get()
        disbursement = Disbursement.objects.create(
            number=_next_number("disbursement", "D"),
            client_id=matter.client_id,
            matter=matter,
            payee=payee.strip(),
            amount_cents=amount_cents,
            purpose=purpose,
            method=method,
            reference=reference.strip(),
            memo=memo.strip(),
            credit_note_ref=credit_note_ref,
            trust_account=bank,
            fee_code=fee_code,
            required_approvals=2 if amount_cents > threshold else 1,
            requested_by=actor,
            requested_at=now,
            expires_on=clock.firm_date(now) + timedelta(days=settings_row.disbursement_expiry_days),
        )
        audit.record(
            actor=actor,
            action="trust.disbursement_requested",
            at=now,
            obj=disbursement,
            after={
                "amount_cents": amount_cents,
                "payee": disbursement.payee,
                "purpose": purpose,
                "method": method,
                "fee_code": fee_code,
                "required_approvals": disbursement.required_approvals,
                "trust_account": bank.code,
            },
        )
    return disbursement


def disbursement_approve(
    *, disbursement: Disbursement, approver: User, now: datetime
) -> Disbursement:
    """Record one lawyer's approval. Approvers are partners or attorneys, never the requester,
    each at most once; the request becomes APPROVED when it has its required count."""
    if approver.role not in LAWYER_ROLES:
        raise TrustError(
            APPROVER_NOT_LAWYER.format(role=Role(approver.role).label), field="approver"
        )
    with transaction.atomic():
        disbursement = locks.lock_disbursement(disbursement.pk)
        # An approval moves the request toward approved: only a requested one takes it.
        DISBURSEMENT_TRANSITIONS.check(
            document=disbursement,
            from_status=disbursement.status,
            to_status=DisbursementStatus.APPROVED,
        )
        if disbursement.expires_on < clock.firm_date(now):
            raise TrustError(
                DISBURSEMENT_EXPIRED.format(disbursement=disbursement, day=disbursement.expires_on),
                field="disbursement",
            )
        if disbursement.requested_by_id == approver.pk:
            raise TrustError(APPROVER_IS_REQUESTER, field="approver")
        if disbursement.approvals.filter(approver=approver).exists():
            raise TrustError(
                APPROVER_TWICE.format(name=approver, disbursement=disbursement), field="approver"
            )
        DisbursementApproval.objects.create(
            disbursement=disbursement, approver=approver, approved_at=now
        )
        count = disbursement.approvals.count()
        if count >= disbursement.required_approvals:
            disbursement.status = DisbursementStatus.APPROVED
            disbursement.decided_by = approver
            disbursement.decided_at = now
            disbursement.save(update_fields=["status", "decided_by", "decided_at"])
            _changed(disbursement, DisbursementStatus.REQUESTED, approver, now)
        audit.record(
            actor=approver,
            action="trust.disbursement_approved",
            at=now,
            obj=disbursement,
            after={
                "approvals": count,
                "required": disbursement.required_approvals,
                "status": disbursement.status,
            },
        )
    return disbursement


def disbursement_reject(
    *, disbursement: Disbursement, actor: User, now: datetime, note: str = ""
) -> Disbursement:
    if actor.role not in LAWYER_ROLES and actor.pk != disbursement.requested_by_id:
        raise TrustError(REJECTER_NOT_LAWYER.format(role=Role(actor.role).label), field="actor")
    with transaction.atomic():
        disbursement = locks.lock_disbursement(disbursement.pk)
        DISBURSEMENT_TRANSITIONS.check(
            document=disbursement,
            from_status=disbursement.status,
            to_status=DisbursementStatus.REJECTED,
        )
        before = disbursement.status
        disbursement.status = DisbursementStatus.REJECTED
        disbursement.decided_by = actor
        disbursement.decided_at = now
        disbursement.decision_note = note[:300]
        disbursement.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _changed(disbursement, before, actor, now)
        audit.record(
            actor=actor,
            action="trust.disbursement_rejected",
            at=now,
            obj=disbursement,
            before={"status": before},
            after={"status": disbursement.status, "note": note},
        )
    return disbursement


def disbursements_expire(*, now: datetime) -> int:
    """Expire pending requests past their date (nothing moves). Returns how many."""
    today = clock.firm_date(now)
    count = 0
    ids = list(
        Disbursement.objects.filter(
            status__in=[DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED],
            expires_on__lt=today,
        ).values_list("id", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            d = locks.lock_disbursement(pk)
            if not DISBURSEMENT_TRANSITIONS.can(d.status, DisbursementStatus.EXPIRED):
                continue
            before = d.status
            d.status = DisbursementStatus.EXPIRED
            d.decided_at = now
            d.save(update_fields=["status", "decided_at"])
            _changed(d, before, None, now)
            audit.record(
                actor=None,
                action="trust.disbursement_expired",
                at=now,
                obj=d,
                before={"status": before},
                after={"status": d.status},
                actor_label="system:expiry",
            )
            count += 1
    return count


def disbursement_post(
    *, disbursement: Disbursement, actor: User | None, now: datetime
) -> Disbursement:
    """Pay an approved disbursement out of trust. The matter's trust row is locked FIRST, then
    the available cleared, undisputed balance is checked again: two concurrent disbursements that
    together exceed it cannot both post."""
    matter = disbursement.matter
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)  # the matter first, then its trust row
        disbursement = locks.lock_disbursement(disbursement.pk)
        _government_fee_check(
            matter=matter,
            payee=disbursement.payee,
            purpose=disbursement.purpose,
            fee_code=disbursement.fee_code,
        )
        DISBURSEMENT_TRANSITIONS.check(
            document=disbursement,
            from_status=disbursement.status,
            to_status=DisbursementStatus.POSTED,
        )
        count = disbursement.approvals.count()
        if count < disbursement.required_approvals:
            raise TrustError(
                DISBURSEMENT_NOT_APPROVED.format(
                    disbursement=disbursement, required=disbursement.required_approvals, count=count
                ),
                field="disbursement",
            )
        today = clock.firm_date(now)
        if disbursement.expires_on < today:
            raise TrustError(
                DISBURSEMENT_EXPIRED.format(disbursement=disbursement, day=disbursement.expires_on),
                field="disbursement",
            )
        position = selectors.trust_position(matter, as_of=today)
        if disbursement.amount_cents > position.available_cents:
            raise _over_available(disbursement.amount_cents, matter, position)
        _check_promises(
            amount_cents=disbursement.amount_cents,
            matter=matter,
            position=position,
            fee_code=(
                disbursement.fee_code
                if disbursement.purpose == DisbursementPurpose.FILING_FEE
                else ""
            ),
        )
        bank = disbursement.trust_account or selectors.primary_trust_account()
        _check_account_available(
            amount_cents=disbursement.amount_cents, matter=matter, account=bank, as_of=today
        )
        kind = (
            EntryKind.TRUST_REFUND
            if disbursement.purpose == DisbursementPurpose.REFUND
            else EntryKind.TRUST_DISBURSEMENT
        )
        entry = entry_post(
            kind=kind,
            entry_date=today,
            memo=(
                f"Disbursement {disbursement.number} to {disbursement.payee} "
                f"({disbursement.get_purpose_display()})"
            ),
            lines=[
                PostingLine(
                    accounts.CLIENT_TRUST_LIABILITY,
                    disbursement.amount_cents,
                    client=disbursement.client,
                    matter=matter,
                ),
                PostingLine(
                    bank.code,
                    -disbursement.amount_cents,
                    client=disbursement.client,
                    matter=matter,
                ),
            ],
            actor=actor,
            now=now,
            disbursement=disbursement,
        )
        disbursement.status = DisbursementStatus.POSTED
        disbursement.posted_date = today
        disbursement.entry = entry
        disbursement.save(update_fields=["status", "posted_date", "entry"])
        _changed(disbursement, DisbursementStatus.APPROVED, actor, now)
        audit.record(
            actor=actor,
            action="trust.disbursement_posted",
            at=now,
            obj=disbursement,
            before={"status": DisbursementStatus.APPROVED},
            after={
                "status": disbursement.status,
                "entry": entry.pk,
                "amount_cents": disbursement.amount_cents,
            },
        )
        low_balance_check(matter=matter, now=now)
    return disbursement


# --- low balance -----------------------------------------------------------------------------


def low_balance_check(*, matter: Matter, now: datetime) -> bool:
    """When the matter's trust balance is below its threshold: one open task (a stable key, so
    never a second while the first is open) for the responsible attorney and billing, and, if
    the firm chose it, one open replenishment request up to the threshold. Returns True if low."""
    if matter.status == MatterStatus.CLOSED:
        return False
    position = selectors.trust_position(matter, as_of=clock.firm_date(now))
    if not position.is_low:
        return False
    from caseledger.matters.services import task_open_for_system

    task_open_for_system(
        key=LOW_BALANCE_TASK_KEY.format(matter_id=matter.pk),
        matter=matter,
        title=(
            f"Trust below minimum on {matter.number}: {firm_money(position.balance_cents)} < "
            f"{firm_money(position.threshold_cents)}"
        ),
        due_date=clock.firm_date(now) + timedelta(days=3),
        now=now,
        assignee=matter.attorney or matter.responsible_partner,
        assignee_role=Role.BILLING,
        description=(
            "The client's trust balance fell below the agreed minimum. Ask the client to "
            "replenish (a replenishment trust request) or adjust the threshold."
        ),
    )
    settings_row = selectors.trust_settings_get()
    if settings_row.auto_replenish:
        has_open = TrustRequest.objects.filter(
            matter=matter,
            kind=TrustRequestKind.REPLENISHMENT,
            status__in=[TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID],
        ).exists()
        if not has_open:
            trust_request_create(
                client=matter.client,
                matter=matter,
                kind=TrustRequestKind.REPLENISHMENT,
                amount_cents=position.threshold_cents - position.balance_cents,
                due_date=clock.firm_date(now) + timedelta(days=14),
                actor=None,
                now=now,
                memo="Automatic replenishment: trust fell below the agreed minimum",
            )
    return True


def low_balance_sweep(*, now: datetime) -> int:
    """Daily: run the low-balance check on every matter with trust history."""
    count = 0
    for matter in selectors.trust_matters():
        with transaction.atomic():
            count += int(low_balance_check(matter=matter, now=now))
    return count
