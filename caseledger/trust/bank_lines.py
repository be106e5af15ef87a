"""Bank statement lines the trust app resolves (registered with ``banking.hooks`` at start-up;
banking sits below trust and cannot call it directly):

- a **returned deposit** (money out of trust: the bank sent back a check or ACH, NSF, a
  chargeback): the trust receipt is reversed through
  ``trust.corrections.deposit_reversal_request`` (refused when its money has been used) and the
  line is matched to the reversal's trust bank posting; above the firm's approval threshold the
  reversal is requested with the line attached and waits for a partner other than the
  requester, whose approval posts it and matches the line (the resolver returns no posting:
  pending);
- a **card payout** (money into trust from the card processor): the uncleared card deposits it
  pays out (their sum, or the one set of up to four of them that sums to the line) are marked
  cleared on the payout date through ``services.deposit_mark_cleared`` and the line is matched
  to their trust bank postings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from caseledger.core.money import format_money
from caseledger.payments.choices import ReversalStatus
from caseledger.trust import corrections, services
from caseledger.trust.choices import DepositMethod
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import TrustDeposit

RETURNED_AMOUNT = "target: {deposit} is {amount}; the returned item is {line}"
RETURNED_NEEDS_APPROVAL = "target: the reversal of {deposit} was not posted"
PAYOUT_NO_SET = "target: no set of uncleared card deposits of the last {days} days sums to {amount}"
PAYOUT_AMBIGUOUS = "target: {count} different sets of uncleared card deposits sum to {amount}"
PAYOUT_DAYS = 14


def _bank_posting_ids(deposit_entry_ids: Sequence[int], ledger_account_id: int) -> list[int]:
    from caseledger.ledger.models import Posting

    return list(
        Posting.objects.filter(entry_id__in=deposit_entry_ids, account_id=ledger_account_id)
        .order_by("id")
        .values_list("id", flat=True)
    )


def returned_deposit_choices(*, line: Any) -> list[tuple[int, str]]:
    """Posted, not reversed deposits of the returned amount received before the line."""
    rows = (
        TrustDeposit.objects.filter(
            amount_cents=-line.amount_cents, received_date__lte=line.booking_date
        )
        .exclude(reversals__status=ReversalStatus.POSTED)
        .select_related("client", "matter")
        .order_by("-received_date", "-id")[:50]
    )
    return [
        (
            d.pk,
            f"{d.receipt_number} · {d.received_date.isoformat()} · {d.payer} · {d.matter} · "
            f"{format_money(d.amount_cents, line.bank_account.currency)}",
        )
        for d in rows
    ]


def returned_deposit_resolve(
    *, line: Any, target_id: int, actor: Any, now: datetime, note: str = ""
) -> list[int]:
    deposit = TrustDeposit.objects.get(pk=target_id)
    currency = line.bank_account.currency
    if deposit.amount_cents != -line.amount_cents:
        raise TrustError(
            RETURNED_AMOUNT.format(
                deposit=deposit,
                amount=format_money(deposit.amount_cents, currency),
                line=format_money(-line.amount_cents, currency),
            ),
            field="target",
        )
    reason = f"Returned by the bank on {line.booking_date.isoformat()} (statement line {line.pk})"
    if note.strip():
        reason += f": {note.strip()}"
    reversal = corrections.deposit_reversal_request(
        deposit=deposit, reason=reason, actor=actor, now=now, bank_line=line
    )
    if reversal.status == ReversalStatus.REQUESTED:
        # Above the firm's threshold: waits for a partner other than the requester; the
        # approval posts the reversal and matches this line to it.
        return []
    if reversal.status != ReversalStatus.POSTED or reversal.entry_id is None:
        raise TrustError(RETURNED_NEEDS_APPROVAL.format(deposit=deposit), field="target")
    return _bank_posting_ids([reversal.entry_id], line.bank_account.ledger_account_id)[:1]


def card_payout_resolve(
    *, line: Any, target_id: int | None, actor: Any, now: datetime, note: str = ""
) -> list[int]:
    from caseledger.banking.models import LineMatch

    account_id = line.bank_account.ledger_account_id
    currency = line.bank_account.currency
    open_ids = set(
        _bank_posting_ids(
            list(
                TrustDeposit.objects.filter(
                    method=DepositMethod.CARD,
                    clears_on__isnull=True,
                    received_date__lte=line.booking_date,
                    received_date__gte=line.booking_date - timedelta(days=PAYOUT_DAYS),
                ).values_list("entry_id", flat=True)
            ),
            account_id,
        )
    ) - set(
        LineMatch.objects.values_list("posting_id", flat=True).filter(
            line__bank_account=line.bank_account
        )
    )
    deposits = list(
        TrustDeposit.objects.filter(
            method=DepositMethod.CARD, clears_on__isnull=True, entry__postings__in=open_ids
        )
        .distinct()
        .order_by("-received_date", "-id")
    )
    target = line.amount_cents
    sets: list[tuple[TrustDeposit, ...]] = []
    if sum(d.amount_cents for d in deposits) == target:
        sets.append(tuple(deposits))
    else:
        near = deposits[:12]
        for size in range(1, 5):
            for combo in combinations(near, size):
                if sum(d.amount_cents for d in combo) == target:
                    sets.append(combo)
            if len(sets) > 1:
                break
    amount = format_money(target, currency)
    if not sets:
        raise TrustError(PAYOUT_NO_SET.format(days=PAYOUT_DAYS, amount=amount), field="target")
    if len(sets) > 1:
        raise TrustError(PAYOUT_AMBIGUOUS.format(count=len(sets), amount=amount), field="target")
    for deposit in sets[0]:
        services.deposit_mark_cleared(
            deposit=deposit, cleared_on=line.booking_date, actor=actor, now=now
        )
    return _bank_posting_ids([d.entry_id for d in sets[0]], account_id)


def connect() -> None:
    from caseledger.banking.choices import Resolution
    from caseledger.banking.hooks import register_line_resolver

    register_line_resolver(
        Resolution.RETURNED_DEPOSIT, returned_deposit_resolve, choices=returned_deposit_choices
    )
    register_line_resolver(Resolution.CARD_PAYOUT, card_payout_resolve)
