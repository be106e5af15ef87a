"""A credit note's trust refund follows its disbursement request (trust.hooks)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models import Max

from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent
from caseledger.credits.choices import ReasonCode, RefundMethod, RefundStatus
from caseledger.credits.exceptions import CreditError
from caseledger.credits.models import CreditRefund
from caseledger.credits.selectors import credit_report
from caseledger.credits.services import credit_note_request, trust_refund_request_again
from caseledger.credits.tests import factories as F
from caseledger.trust import hooks
from caseledger.trust.choices import DisbursementPurpose, DisbursementStatus
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement
from caseledger.trust.services import (
    disbursement_approve,
    disbursement_post,
    disbursement_reject,
    disbursement_request,
    disbursements_expire,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund(users, now):
    """A trust-paid invoice, credited 200.00 with 150.00 refunded through trust."""
    m = F.matter(partner=users["PARTNER"])
    inv = F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))
    F.trust_deposit(matter_obj=m, cents=100_000, day=date(2026, 9, 2))
    F.trust_pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 3), actor=users["BILLING"])
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        amount_cents=20_000,
        refund_cents=15_000,
        refund_method=RefundMethod.TRUST,
        actor=users["BILLING"],
        now=now,
    )
    refund = CreditRefund.objects.get(credit_note=note)
    assert refund.status == RefundStatus.AWAITING_DISBURSEMENT
    return refund


def _disbursement(refund: CreditRefund) -> Disbursement:
    assert refund.external_id is not None
    return Disbursement.objects.get(pk=refund.external_id)


def _last_event_id() -> int:
    return AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0


def test_approved_then_paid(refund, users, now):
    events = _last_event_id()
    d = disbursement_approve(disbursement=_disbursement(refund), approver=users["PARTNER"], now=now)
    assert d.status == DisbursementStatus.APPROVED
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DISBURSEMENT_APPROVED
    later = now + timedelta(days=2)
    disbursement_post(disbursement=d, actor=users["PARTNER"], now=later)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.POSTED
    assert refund.refund_date == _disbursement(refund).posted_date
    changes = AuditEvent.objects.filter(
        pk__gt=events, action="credits.trust_refund_status"
    ).order_by("id")
    assert [(e.before["status"], e.after["status"]) for e in changes] == [
        ("AWAITING_DISBURSEMENT", "DISBURSEMENT_APPROVED"),
        ("DISBURSEMENT_APPROVED", "POSTED"),
    ]
    assert changes[0].after["disbursement"] == d.number


def test_two_approvals_needed_first_one_leaves_it_waiting(refund, users, now, make_user):
    from caseledger.core.choices import Role

    d = _disbursement(refund)
    d.required_approvals = 2  # as if above the firm's dual-approval threshold
    d.save(update_fields=["required_approvals"])
    disbursement_approve(disbursement=d, approver=users["PARTNER"], now=now)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.AWAITING_DISBURSEMENT
    disbursement_approve(disbursement=d, approver=make_user(role=Role.ATTORNEY), now=now)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DISBURSEMENT_APPROVED


def test_rejected_refund_is_not_counted_as_refunded(refund, users, now):
    disbursement_reject(
        disbursement=_disbursement(refund), actor=users["PARTNER"], now=now, note="Wrong payee"
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DISBURSEMENT_REJECTED
    (row,) = credit_report(by="month", date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    assert row.trust_refunds_cents == 0


def test_expired_request(refund, now):
    d = _disbursement(refund)
    assert disbursements_expire(now=now + timedelta(days=400)) == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DISBURSEMENT_EXPIRED
    assert _disbursement(refund).status == DisbursementStatus.EXPIRED
    assert d.pk == refund.external_id


def test_other_disbursements_leave_refunds_alone(refund, users, now):
    other = disbursement_request(
        matter=refund.matter,
        payee="USCIS",
        amount_cents=1_000,
        purpose=DisbursementPurpose.FILING_FEE,
        method="CHECK",
        actor=users["BILLING"],
        now=now,
    )
    disbursement_approve(disbursement=other, approver=users["PARTNER"], now=now)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.AWAITING_DISBURSEMENT


def test_a_failing_listener_rolls_the_status_change_back(refund, users, now):
    def broken(change: hooks.DisbursementChange) -> None:
        raise TrustError("listener refused")

    hooks.register_disbursement_listener(broken)
    try:
        with pytest.raises(TrustError, match="listener refused"):
            disbursement_approve(
                disbursement=_disbursement(refund), approver=users["PARTNER"], now=now
            )
    finally:
        hooks.unregister_disbursement_listener(broken)
    assert _disbursement(refund).status == DisbursementStatus.REQUESTED
    assert not _disbursement(refund).approvals.exists()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.AWAITING_DISBURSEMENT


def test_credit_note_page_shows_the_refund_status(refund, users, now, login):
    d = _disbursement(refund)
    client = login(users["BILLING"])
    page = client.get(f"/credits/{refund.credit_note_id}/").content.decode()
    assert f"Disbursement {d.number}" in page
    assert '<span class="badge warn">Waiting for trust disbursement approval</span>' in page
    disbursement_reject(disbursement=d, actor=users["PARTNER"], now=now, note="Wrong payee")
    page = client.get(f"/credits/{refund.credit_note_id}/").content.decode()
    assert '<span class="badge bad">Trust disbursement rejected</span>' in page


def test_a_rejected_refund_is_requested_again_once(refund, users, now):
    disbursement_reject(
        disbursement=_disbursement(refund), actor=users["PARTNER"], now=now, note="Wrong payee"
    )
    events = _last_event_id()
    again = trust_refund_request_again(refund=refund, actor=users["BILLING"], now=now)
    assert again.pk != refund.pk
    assert (again.status, again.amount_cents, again.credit_note_id) == (
        RefundStatus.AWAITING_DISBURSEMENT,
        15_000,
        refund.credit_note_id,
    )
    d = _disbursement(again)
    assert (d.purpose, d.status, d.amount_cents) == (
        DisbursementPurpose.REFUND,
        DisbursementStatus.REQUESTED,
        15_000,
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DISBURSEMENT_REJECTED  # its history stays
    assert (
        AuditEvent.objects.filter(pk__gt=events, action="credits.trust_refund_requested").count()
        == 1
    )
    before = (CreditRefund.objects.count(), Disbursement.objects.count())
    with pytest.raises(CreditError) as exc:
        trust_refund_request_again(refund=refund, actor=users["BILLING"], now=now)
    assert exc.value.field == "refund"
    assert exc.value.message == (
        f"refund: credit note {refund.credit_note.number} already has $150.00 refunded or "
        "waiting through trust; another $150.00 would exceed its refund of $150.00"
    )
    assert (CreditRefund.objects.count(), Disbursement.objects.count()) == before
    # The new request goes through the same approvals and is paid like any trust refund.
    disbursement_approve(disbursement=d, approver=users["PARTNER"], now=now)
    disbursement_post(disbursement=_disbursement(again), actor=users["PARTNER"], now=now)
    again.refresh_from_db()
    assert again.status == RefundStatus.POSTED


def test_only_a_rejected_or_expired_trust_refund_is_requested_again(refund, users, now):
    with pytest.raises(CreditError) as exc:
        trust_refund_request_again(refund=refund, actor=users["BILLING"], now=now)
    assert exc.value.message == (
        f"refund: trust refund {refund.reference} is waiting for trust disbursement approval; "
        "only a rejected or expired trust refund is requested again"
    )
    assert CreditRefund.objects.count() == 1
    with pytest.raises(NotPermitted):
        trust_refund_request_again(refund=refund, actor=users["PARALEGAL"], now=now)


def test_request_again_from_the_credit_note_page(refund, users, now, login):
    disbursements_expire(now=now + timedelta(days=400))
    url = f"/credits/{refund.credit_note_id}/"
    page = login(users["BILLING"]).get(url).content.decode()
    assert "Request again" in page
    action = f"/credits/{refund.credit_note_id}/refunds/{refund.pk}/request-again/"
    r = login(users["BILLING"]).post(action, follow=True)
    assert "Trust refund requested again: disbursement" in r.content.decode()
    assert "Request again" not in r.content.decode()  # the new request covers the refund
    assert CreditRefund.objects.filter(status=RefundStatus.AWAITING_DISBURSEMENT).count() == 1
