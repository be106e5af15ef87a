"""The disbursement workflow walked pair by pair: for every (from, to) status pair the service
that moves a disbursement to ``to`` either does it (the table allows the pair) or refuses with a
message naming both statuses and changes nothing (it does not)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from caseledger.core.transitions import TRANSITION_REFUSED
from caseledger.trust import services
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
)
from caseledger.trust.choices import DisbursementStatus as S
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement, DisbursementApproval, TrustSettings
from caseledger.trust.transitions import DISBURSEMENT_TRANSITIONS as T

pytestmark = pytest.mark.django_db

ALL = [str(v) for v in S.values]
# The status each service moves a disbursement to (requested is only ever a new row's status).
TARGETS = [S.APPROVED, S.REJECTED, S.POSTED, S.EXPIRED]


def test_the_table_names_every_status_and_nothing_returns_to_requested():
    assert set(T.allowed) == set(ALL)
    assert not any(T.can(a, S.REQUESTED) for a in ALL)
    for final in (S.POSTED, S.REJECTED, S.EXPIRED):
        assert T.allowed[final] == frozenset()


@pytest.mark.parametrize(("from_status", "to_status"), T.pairs())
def test_check_allows_exactly_the_table(from_status, to_status):
    if to_status in T.allowed[from_status]:
        T.check(document="D-1", from_status=from_status, to_status=to_status)
        return
    with pytest.raises(TrustError) as err:
        T.check(document="D-1", from_status=from_status, to_status=to_status)
    assert err.value.field == "status"
    assert err.value.message == (
        f"status: disbursement D-1 cannot go from {S(from_status).label.lower()} "
        f"to {S(to_status).label.lower()}"
    )


def _in_status(status, *, matter, now, users):
    """A one-approval disbursement brought to ``status`` through the services."""
    d = services.disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=10_000,
        purpose=DisbursementPurpose.FILING_FEE,
        method=DisbursementMethod.CHECK,
        reference="chk 501",
        actor=users["PARALEGAL"],
        now=now,
    )
    assert d.required_approvals == 1
    if status in (S.APPROVED, S.POSTED):
        d = services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
    if status == S.POSTED:
        d = services.disbursement_post(disbursement=d, actor=users["ATTORNEY"], now=now)
    if status == S.REJECTED:
        d = services.disbursement_reject(disbursement=d, actor=users["ATTORNEY"], now=now)
    if status == S.EXPIRED:
        services.disbursements_expire(now=now + timedelta(days=400))
        d.refresh_from_db()
    assert d.status == status
    return d


def _move(d, to_status, *, now, users):
    if to_status == S.APPROVED:
        services.disbursement_approve(disbursement=d, approver=users["PARTNER"], now=now)
    elif to_status == S.REJECTED:
        services.disbursement_reject(disbursement=d, actor=users["PARTNER"], now=now, note="no")
    elif to_status == S.POSTED:
        services.disbursement_post(disbursement=d, actor=users["PARTNER"], now=now)
    else:  # the daily job skips what may not expire instead of refusing
        services.disbursements_expire(now=now + timedelta(days=400))


@pytest.mark.parametrize("to_status", TARGETS)
@pytest.mark.parametrize("from_status", ALL)
def test_every_service_follows_the_table(from_status, to_status, now, users):
    from caseledger.payments.tests.factories import MatterFactory

    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    matter = MatterFactory()
    services.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Acme",
        amount_cents=100_000,
        received_date=date(2026, 10, 1),
        reference="W-1",
        actor=None,
        now=now,
    )
    d = _in_status(from_status, matter=matter, now=now, users=users)
    approvals = DisbursementApproval.objects.filter(disbursement=d).count()
    if T.can(from_status, to_status):
        _move(d, to_status, now=now, users=users)
        d.refresh_from_db()
        assert d.status == to_status
        return
    if to_status == S.EXPIRED:
        _move(d, to_status, now=now, users=users)
    else:
        with pytest.raises(TrustError) as err:
            _move(d, to_status, now=now, users=users)
        assert err.value.message == TRANSITION_REFUSED.format(
            noun="disbursement",
            document=d.number,
            from_status=S(from_status).label.lower(),
            to_status=S(to_status).label.lower(),
        )
    row = Disbursement.objects.get(pk=d.pk)
    assert (row.status, row.entry_id) == (from_status, d.entry_id)
    assert DisbursementApproval.objects.filter(disbursement=d).count() == approvals
