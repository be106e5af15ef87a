"""Every select_for_update of the trust app. Global order: matter -> trust balance (MatterTrust)
-> invoice (payments.locks) -> payment; the trust app's own rows (deposit, its reversal, its
trust request, a dispute hold, a disbursement) after the trust balance."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from caseledger.ledger.locks import trust_balances_lock
from caseledger.matters import locks as matters_locks
from caseledger.matters.models import Matter
from caseledger.trust.models import (
    DepositReversal,
    Disbursement,
    DisputeHold,
    MatterTrust,
    TrustDeposit,
    TrustRequest,
)


def matter_trust_get(matter: Matter, now: datetime) -> MatterTrust:
    row = MatterTrust.objects.filter(matter_id=matter.pk).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return MatterTrust.objects.create(
                matter=matter, client_id=matter.client_id, updated_at=now
            )
    except IntegrityError:
        return MatterTrust.objects.get(matter_id=matter.pk)


def lock_matter_trust(matter: Matter, now: datetime) -> MatterTrust:
    """Lock the matter's trust balance row (created on first use). Every check of a matter's
    trust balance happens after this lock and in the same transaction as the entry it guards.

    The matter row first, as the global lock order says (matter -> trust balance rows ->
    invoice): invoice issue (billing) and fee disbursements lock the matter before its trust
    row, so a trust path that took the trust row first deadlocked against them."""
    matters_locks.matter_lock(matter_id=matter.pk)
    matter_trust_get(matter, now)
    row = MatterTrust.objects.select_for_update().get(matter_id=matter.pk)
    # Then the ledger's own client trust row, so a later invoice lock never precedes it.
    trust_balances_lock(pairs=[(matter.client_id, matter.pk)])
    return row


def lock_disbursement(disbursement_id: int) -> Disbursement:
    return Disbursement.objects.select_for_update().get(pk=disbursement_id)


def lock_deposit(deposit_id: int) -> TrustDeposit:
    """The deposit row only (not its matter, already locked first), with its matter loaded."""
    return (
        TrustDeposit.objects.select_for_update(of=("self",))
        .select_related("matter")
        .get(pk=deposit_id)
    )


def lock_reversal(reversal_id: int) -> DepositReversal:
    return DepositReversal.objects.select_for_update().get(pk=reversal_id)


def lock_trust_request(request_id: int) -> TrustRequest:
    return TrustRequest.objects.select_for_update().get(pk=request_id)


def lock_dispute_hold(hold_id: int) -> DisputeHold:
    return DisputeHold.objects.select_for_update().get(pk=hold_id)
