"""Earned-fee transfers: trust pays the firm against issued invoices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.models import User
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.payments import locks as payment_locks
from caseledger.payments.services import settlement_apply
from caseledger.trust import locks, selectors
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    TrustTransfer,
)
from caseledger.trust.services.common import (
    INVOICE_NOT_ISSUED,
    INVOICE_VOID,
    NOTHING_AVAILABLE,
    NOTHING_DUE,
    OVER_AVAILABLE,
    OVER_UNPAID,
    TRANSFER_BEFORE_INVOICE,
    TRANSFER_IN_FUTURE,
    _check_amount,
)
from caseledger.trust.services.disbursements import (
    _check_account_available,
    _check_promises,
    _promised_cents,
    trust_account_resolve,
)
from caseledger.trust.services.low_balance import low_balance_check


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
