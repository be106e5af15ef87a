"""Reversing a posted trust deposit: a mirror entry naming the original, a partner's approval
above the firm's threshold (never the requester's own), refused when the money has been used,
with the message saying what uses it; the trust request it paid owes again; audit events."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import client_trust_balance, ledger_verify
from caseledger.payments.models import CorrectionSettings
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import corrections, services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import TrustSettings
from caseledger.trust.selectors import trust_position

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})


def deposit(matter, now, cents=100_000, method="WIRE", day=DAY, **kw):
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method=method,
        payer="Acme",
        reference="W1",
        amount_cents=cents,
        received_date=day,
        actor=None,
        now=now,
        **kw,
    )


def test_reversal_below_threshold_posts_a_mirror_entry_naming_the_original(users, now):
    m = MatterFactory()
    d = deposit(m, now)
    reversal = corrections.deposit_reversal_request(
        deposit=d, reason="wrong matter", actor=users["BILLING"], now=now
    )
    assert reversal.status == "POSTED"
    assert reversal.entry.reverses_id == d.entry_id
    assert JournalEntry.objects.filter(pk=d.entry_id).exists()  # nothing deleted
    assert client_trust_balance(client=m.client, matter=m) == 0
    actions = list(
        AuditEvent.objects.filter(action__startswith="trust.deposit_rev").values_list(
            "action", flat=True
        )
    )
    assert actions == ["trust.deposit_reversal_requested", "trust.deposit_reversed"]
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_request(
            deposit=d, reason="again", actor=users["BILLING"], now=now
        )
    assert exc.value.message == f"deposit: {d.receipt_number} was already reversed on " + str(
        reversal.posted_date
    )
    assert ledger_verify() == []


def test_reason_is_required(users, now):
    d = deposit(MatterFactory(), now)
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_request(
            deposit=d, reason="  ", actor=users["BILLING"], now=now
        )
    assert exc.value.message == corrections.REASON_REQUIRED
    assert exc.value.field == "reason"


def test_above_threshold_waits_for_another_partner(users, make_user, now):
    CorrectionSettings.objects.create(id=1, reversal_approval_cents=50_000)
    m = MatterFactory()
    d = deposit(m, now)
    partner = users["PARTNER"]
    reversal = corrections.deposit_reversal_request(
        deposit=d, reason="check returned", actor=partner, now=now
    )
    assert reversal.status == "REQUESTED"
    assert client_trust_balance(client=m.client, matter=m) == 100_000
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_approve(reversal=reversal, approver=partner, now=now)
    assert exc.value.message == "approver: the requester cannot approve their own reversal"
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_approve(reversal=reversal, approver=users["ATTORNEY"], now=now)
    assert exc.value.message == "approver: only a partner may approve a reversal (got Attorney)"
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_request(
            deposit=d, reason="twice", actor=users["BILLING"], now=now
        )
    assert (
        exc.value.message
        == f"deposit: {d.receipt_number} already has a reversal waiting for approval"
    )
    other = make_user(role="PARTNER")
    corrections.deposit_reversal_approve(reversal=reversal, approver=other, now=now)
    reversal.refresh_from_db()
    assert (reversal.status, reversal.decided_by) == ("POSTED", other)
    assert client_trust_balance(client=m.client, matter=m) == 0


def test_rejected_reversal_moves_nothing_and_can_be_asked_again(users, now):
    CorrectionSettings.objects.create(id=1, reversal_approval_cents=0)
    m = MatterFactory()
    d = deposit(m, now)
    reversal = corrections.deposit_reversal_request(
        deposit=d, reason="check returned", actor=users["BILLING"], now=now
    )
    with pytest.raises(TrustError):
        corrections.deposit_reversal_reject(reversal=reversal, actor=users["ATTORNEY"], now=now)
    corrections.deposit_reversal_reject(
        reversal=reversal, actor=users["PARTNER"], now=now, note="it cleared after all"
    )
    assert client_trust_balance(client=m.client, matter=m) == 100_000
    again = corrections.deposit_reversal_request(
        deposit=d, reason="returned after all", actor=users["BILLING"], now=now
    )
    assert again.status == "REQUESTED"


def test_refused_when_the_money_paid_an_invoice(users, now):
    m = MatterFactory()
    d = deposit(m, now)
    invoice = issued_invoice(matter=m, cents=30_000, now=now, day=date(2026, 10, 20))
    services.trust_apply_to_invoice(invoice=invoice, actor=None, now=now)
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_request(
            deposit=d, reason="wrong matter", actor=users["BILLING"], now=now
        )
    assert exc.value.message == f"deposit: cannot be reversed, $300.00 of it paid invoice {invoice}"
    assert exc.value.field == "deposit"
    assert client_trust_balance(client=m.client, matter=m) == 70_000


def test_refused_when_disbursed_or_disputed_naming_each_use(users, now):
    m = MatterFactory()
    d = deposit(m, now)
    req = services.disbursement_request(
        matter=m,
        payee="USCIS",
        amount_cents=46_000,
        purpose="FILING_FEE",
        method="CHECK",
        actor=users["PARALEGAL"],
        now=now,
    )
    services.disbursement_approve(disbursement=req, approver=users["ATTORNEY"], now=now)
    services.disbursement_post(disbursement=req, actor=users["ATTORNEY"], now=now)
    services.dispute_hold_create(
        matter=m, amount_cents=4_000, reason="fee dispute", actor=users["PARTNER"], now=now
    )
    with pytest.raises(TrustError) as exc:
        corrections.deposit_reversal_request(deposit=d, reason="x", actor=users["BILLING"], now=now)
    assert exc.value.message == (
        "deposit: cannot be reversed, $40.00 of it is held in dispute; "
        f"$460.00 of it was disbursed ({req.number} to USCIS)"
    )


def test_reversal_reopens_the_trust_request_it_paid(users, now):
    m = MatterFactory()
    request = services.trust_request_create(
        client=m.client,
        matter=m,
        kind="RETAINER",
        amount_cents=100_000,
        due_date=date(2026, 12, 1),
        actor=users["BILLING"],
        now=now,
        send=False,
    )
    d = deposit(m, now, trust_request=request)
    request.refresh_from_db()
    assert request.status == "PAID"
    corrections.deposit_reversal_request(
        deposit=d, reason="check returned", actor=users["BILLING"], now=now
    )
    request.refresh_from_db()
    assert (request.status, request.received_cents) == ("OPEN", 0)


def test_uncleared_check_reversed_leaves_nothing_uncleared(users, now):
    m = MatterFactory()
    today = now.date()
    d = deposit(m, now, method="CHECK", day=today)
    assert trust_position(m, today).uncleared_cents == 100_000
    corrections.deposit_reversal_request(
        deposit=d, reason="check returned unpaid", actor=users["BILLING"], now=now
    )
    position = trust_position(m, today)
    assert (position.balance_cents, position.uncleared_cents) == (0, 0)
    with pytest.raises(TrustError) as exc:
        services.deposit_mark_cleared(deposit=d, cleared_on=today, actor=None, now=now)
    assert exc.value.message == f"deposit: {d.receipt_number} was reversed; its money never clears"


def test_deposit_page_shows_the_shared_reversal_panel_to_each_partner(login, users, make_user, now):
    """The panel (core/_reversals.html, shared with the payment page): the requester waits and
    may withdraw; another partner may approve or reject; no second request is offered."""
    from django.urls import reverse

    CorrectionSettings.objects.create(id=1, reversal_approval_cents=50_000)
    m = MatterFactory()
    d = deposit(m, now)
    page = reverse("trust:deposit_detail", args=[d.pk])
    requester = users["PARTNER"]
    html = login(requester).get(page).content.decode()
    assert "Reverse this deposit" in html
    assert "Above the firm's threshold a partner other than you approves it first." in html
    response = login(requester).post(
        reverse("trust:deposit_reverse", args=[d.pk]), {"reason": "check returned"}
    )
    assert response.status_code == 302
    reversal = d.reversals.get()
    html = login(requester).get(page).content.decode()
    assert "Waiting for another partner" in html
    assert "Approve and reverse" not in html
    assert reverse("trust:deposit_reversal_reject", args=[reversal.pk]) in html
    assert "Reverse this deposit" not in html
    html = login(make_user(role="PARTNER")).get(page).content.decode()
    assert reverse("trust:deposit_reversal_approve", args=[reversal.pk]) in html
    assert reverse("trust:deposit_reversal_reject", args=[reversal.pk]) in html
    assert "Waiting for another partner" not in html
