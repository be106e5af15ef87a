"""Disbursements with approvals: money leaving trust to anyone else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from caseledger.billing.models import Invoice
from caseledger.billing.selectors import fee_charged_elsewhere, matter_fee_codes_charged
from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.choices import LAWYER_ROLES, Role
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import User
from caseledger.core.selectors import firm_get
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Matter
from caseledger.trust import hooks, locks, selectors
from caseledger.trust.choices import (
    DisbursementMethod,
    DisbursementPurpose,
    DisbursementStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    Disbursement,
    DisbursementApproval,
)
from caseledger.trust.services.common import (
    APPROVER_IS_REQUESTER,
    APPROVER_NOT_LAWYER,
    APPROVER_TWICE,
    DISBURSEMENT_EXPIRED,
    DISBURSEMENT_NOT_APPROVED,
    FEE_PROMISE_UNCOVERED,
    METHOD_INVALID,
    OVER_AVAILABLE,
    OVER_PROMISED,
    PAYEE_REQUIRED,
    PURPOSE_INVALID,
    REJECTER_NOT_LAWYER,
    _check_amount,
    _next_number,
)
from caseledger.trust.services.low_balance import low_balance_check
from caseledger.trust.transitions import DISBURSEMENT_TRANSITIONS

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


@dataclass(frozen=True)
class ApprovalOutcome:
    """What one approval did: ``posted`` when it completed the approvals and the money left
    trust; ``post_refused`` the refusal when it completed them but posting was refused (the
    approval stands; the disbursement stays APPROVED for a later post)."""

    disbursement: Disbursement
    posted: bool = False
    post_refused: str = ""


def disbursement_approve_and_post(
    *, disbursement: Disbursement, approver: User, now: datetime
) -> ApprovalOutcome:
    """Record one approval (``disbursement_approve``; its refusal is raised) and, when that
    completes the approvals, pay it out (``disbursement_post``). A refusal to post does not undo
    the approval: it is returned as ``post_refused``."""
    disbursement = disbursement_approve(disbursement=disbursement, approver=approver, now=now)
    if disbursement.status != DisbursementStatus.APPROVED:
        return ApprovalOutcome(disbursement)
    try:
        with transaction.atomic():  # a savepoint: a refused post leaves the approval in place
            disbursement = disbursement_post(disbursement=disbursement, actor=approver, now=now)
    except ApplicationError as exc:
        return ApprovalOutcome(disbursement, post_refused=exc.message)
    return ApprovalOutcome(disbursement, posted=True)


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
