"""The credits workflows walked pair by pair: for every (from, to) status pair of credit notes
and write-offs, the service that moves a document to ``to`` either does it (the table allows the
pair) or refuses with a message naming both statuses and changes nothing. Refunds follow the
payments refund or the disbursement that moves their money: the followers obey the same kind of
table."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.transitions import TRANSITION_REFUSED
from caseledger.credits import exceptions as E
from caseledger.credits.choices import (
    CreditNoteStatus,
    ReasonCode,
    RefundMethod,
    RefundSource,
    RefundStatus,
    WriteOffStatus,
)
from caseledger.credits.models import CreditNote, CreditRefund, WriteOff
from caseledger.credits.services import (
    card_refund_follow,
    credit_note_approve,
    credit_note_reject,
    credit_note_request,
    write_off_approve,
    write_off_reject,
    write_off_request,
    write_off_reverse,
)
from caseledger.credits.tests import factories as F
from caseledger.credits.transitions import (
    CREDIT_NOTE_TRANSITIONS,
    REFUND_TRANSITIONS,
    WRITE_OFF_TRANSITIONS,
)
from caseledger.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db


def _refused(machine, document, from_status, to_status) -> str:
    return TRANSITION_REFUSED.format(
        noun=machine.noun,
        document=document,
        from_status=machine.label(from_status),
        to_status=machine.label(to_status),
    )


@pytest.mark.parametrize(
    "machine", [CREDIT_NOTE_TRANSITIONS, WRITE_OFF_TRANSITIONS, REFUND_TRANSITIONS]
)
def test_check_allows_exactly_the_table(machine):
    for from_status, to_status in machine.pairs():
        if machine.can(from_status, to_status):
            machine.check(document="#1", from_status=from_status, to_status=to_status)
            continue
        with pytest.raises(E.CreditError) as err:
            machine.check(document="#1", from_status=from_status, to_status=to_status)
        assert err.value.field == "status"
        assert err.value.message == _refused(machine, "#1", from_status, to_status)


@pytest.fixture
def inv(users):
    m = F.matter(partner=users["PARTNER"])
    return F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))


# -- credit notes ------------------------------------------------------------------------------

NOTE_TARGETS = [CreditNoteStatus.ISSUED, CreditNoteStatus.REJECTED]


def _note_in(status, *, inv, users, now):
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.COURTESY_DISCOUNT,  # needs a partner's approval
        amount_cents=10_000,
        actor=users["BILLING"],
        now=now,
    )
    if status == CreditNoteStatus.ISSUED:
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    elif status == CreditNoteStatus.REJECTED:
        credit_note_reject(credit_note=note, approver=users["PARTNER"], now=now, note="no")
    note.refresh_from_db()
    assert note.status == status
    return note


@pytest.mark.parametrize("to_status", NOTE_TARGETS)
@pytest.mark.parametrize("from_status", CreditNoteStatus.values)
def test_credit_note_services_follow_the_table(from_status, to_status, inv, users, now):
    note = _note_in(from_status, inv=inv, users=users, now=now)
    entries = JournalEntry.objects.count()

    def move():
        if to_status == CreditNoteStatus.ISSUED:
            credit_note_approve(credit_note=note, approver=users["ADMIN"], now=now)
        else:
            credit_note_reject(credit_note=note, approver=users["ADMIN"], now=now, note="no")

    if CREDIT_NOTE_TRANSITIONS.can(from_status, to_status):
        move()
        note.refresh_from_db()
        assert note.status == to_status
        return
    with pytest.raises(E.CreditError) as err:
        move()
    label = note.number or f"request #{note.pk}"
    assert err.value.message == _refused(CREDIT_NOTE_TRANSITIONS, label, from_status, to_status)
    assert CreditNote.objects.get(pk=note.pk).status == from_status
    assert JournalEntry.objects.count() == entries


# -- write-offs --------------------------------------------------------------------------------

WRITE_OFF_TARGETS = [WriteOffStatus.POSTED, WriteOffStatus.REJECTED, WriteOffStatus.REVERSED]


def _write_off_in(status, *, inv, users, now):
    wo = write_off_request(invoice=inv, reason="Bankrupt", actor=users["BILLING"], now=now)
    assert wo.status == WriteOffStatus.PENDING_APPROVAL  # above the firm's threshold
    if status in (WriteOffStatus.POSTED, WriteOffStatus.REVERSED):
        write_off_approve(write_off=wo, approver=users["PARTNER"], now=now)
    if status == WriteOffStatus.REVERSED:
        write_off_reverse(write_off=wo, reason="Paid after all", actor=users["BILLING"], now=now)
    if status == WriteOffStatus.REJECTED:
        write_off_reject(write_off=wo, approver=users["PARTNER"], now=now, note="no")
    wo.refresh_from_db()
    assert wo.status == status
    return wo


@pytest.mark.parametrize("to_status", WRITE_OFF_TARGETS)
@pytest.mark.parametrize("from_status", WriteOffStatus.values)
def test_write_off_services_follow_the_table(from_status, to_status, inv, users, now):
    wo = _write_off_in(from_status, inv=inv, users=users, now=now)
    entries = JournalEntry.objects.count()

    def move():
        if to_status == WriteOffStatus.POSTED:
            write_off_approve(write_off=wo, approver=users["ADMIN"], now=now)
        elif to_status == WriteOffStatus.REJECTED:
            write_off_reject(write_off=wo, approver=users["ADMIN"], now=now, note="no")
        else:
            write_off_reverse(write_off=wo, reason="Paid", actor=users["BILLING"], now=now)

    if WRITE_OFF_TRANSITIONS.can(from_status, to_status):
        move()
        wo.refresh_from_db()
        assert wo.status == to_status
        return
    with pytest.raises(E.CreditError) as err:
        move()
    assert err.value.message == _refused(WRITE_OFF_TRANSITIONS, f"#{wo.pk}", from_status, to_status)
    assert WriteOff.objects.get(pk=wo.pk).status == from_status
    assert JournalEntry.objects.count() == entries


# -- card refunds follow the payments refund ---------------------------------------------------

# The payments refund's status -> the credit note refund's (credits.services).
CARD_FOLLOWS = {"REQUESTED": RefundStatus.CARD_REQUESTED, "FAILED": RefundStatus.CARD_FAILED}


@pytest.mark.parametrize("payments_status", sorted(CARD_FOLLOWS))
@pytest.mark.parametrize("from_status", RefundStatus.values)
def test_card_refund_follower_obeys_the_table(from_status, payments_status, inv, users, now):
    """The follower moves every card refund row of a payments refund; a row whose status may not
    take the payments refund's is refused (the payments refund's change rolls back with it)."""
    from caseledger.payments.choices import RefundMethod as PayMethod
    from caseledger.payments.choices import RefundStatus as PayStatus
    from caseledger.payments.models import CreditRefund as PaymentRefund

    note = _note_in(CreditNoteStatus.ISSUED, inv=inv, users=users, now=now)
    payment = F.pay(invoice_obj=inv, cents=1_000, day=date(2026, 10, 5))
    pay_refund = PaymentRefund.objects.create(
        payment=payment,
        amount_cents=500,
        method=PayMethod.CARD,
        status=PayStatus(payments_status),
        refund_date=date(2026, 10, 6),
        created_at=now,
    )
    row = CreditRefund.objects.create(
        credit_note=note,
        client=note.client,
        matter=note.matter,
        source=RefundSource.OPERATING,
        method=RefundMethod.CARD,
        status=from_status,
        amount_cents=500,
        refund_date=date(2026, 10, 6),
        external_id=pay_refund.pk,
        created_by=users["BILLING"],
        created_at=now,
    )
    to_status = CARD_FOLLOWS[payments_status]
    if from_status == to_status or REFUND_TRANSITIONS.can(from_status, to_status):
        card_refund_follow(refund=pay_refund, actor=users["BILLING"], now=now)
        row.refresh_from_db()
        assert row.status == to_status
        return
    with pytest.raises(E.CreditError) as err:
        card_refund_follow(refund=pay_refund, actor=users["BILLING"], now=now)
    assert err.value.message == _refused(REFUND_TRANSITIONS, f"#{row.pk}", from_status, to_status)
    assert CreditRefund.objects.get(pk=row.pk).status == from_status
