from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import pytest
from django.core import mail

from caseledger.billing.models import Invoice
from caseledger.core import outbox
from caseledger.core.models import Firm, OutboxMessage
from caseledger.ledger import accounts as A
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import account_balance, client_trust_balance
from caseledger.ledger.tests.factories import InvoiceFactory
from caseledger.matters.models import Task
from caseledger.payments.selectors import invoice_balance_due
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import selectors, services
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    DisbursementStatus,
    TrustRequestKind,
    TrustRequestStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import TrustDeposit, TrustRequest, TrustSettings

pytestmark = pytest.mark.django_db

OLD = date(2026, 10, 1)  # cleared by NOW for every method


@pytest.fixture
def matter():
    m = MatterFactory()
    m.client.email = "client@example.com"
    m.client.save()
    return m


@pytest.fixture
def no_low_threshold():
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})


def deposit(matter, now, cents, *, day=OLD, method=DepositMethod.WIRE, ref="W-1", **kw):
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method=method,
        payer="Acme",
        amount_cents=cents,
        received_date=day,
        reference=ref,
        actor=None,
        now=now,
        **kw,
    )


def test_business_day_clearing():
    friday = date(2026, 10, 30)
    assert selectors.business_days_after(friday, 1) == date(2026, 11, 2)
    assert selectors.business_days_after(friday, 7) == date(2026, 11, 10)
    assert selectors.business_days_after(friday, 0) == friday


def test_deposit_clears_by_method_and_notifies_once(
    matter, now, django_capture_on_commit_callbacks
):
    today = date(2026, 11, 2)
    with django_capture_on_commit_callbacks(execute=True):
        check = deposit(matter, now, 50_000, day=today, method=DepositMethod.CHECK, ref="1234")
    assert check.clears_on == date(2026, 11, 11)  # 7 business days
    assert check.receipt_number.startswith("R-")
    (notice,) = OutboxMessage.objects.filter(key=f"trust.receipt:{check.pk}")
    assert notice.status == "SENT"
    assert len(mail.outbox) == 1
    assert "received $500.00" in mail.outbox[0].body
    assert mail.outbox[0].extra_headers["Message-ID"] == notice.message_id
    # A second send of the same notice is refused: the receipt leaves exactly once.
    assert outbox.message_send(message_id=notice.pk, now=now) is False
    assert outbox.send_due(now=now) == 0
    assert len(mail.outbox) == 1
    pos = selectors.trust_position(matter, today)
    assert (pos.balance_cents, pos.uncleared_cents, pos.available_cents) == (50_000, 50_000, 0)
    assert client_trust_balance(client=matter.client, matter=matter) == 50_000


def test_card_deposit_credited_in_full_fee_from_operating(matter, now):
    d = deposit(
        matter, now, 100_000, method=DepositMethod.CARD, ref="", fee_cents=3_230, card_settled=True
    )
    assert d.fee_netted is True
    assert d.fee_entry is not None
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000
    assert account_balance(code=A.TRUST_BANK) == 100_000
    assert account_balance(code=A.CLIENT_TRUST_LIABILITY) == 100_000
    assert account_balance(code=A.CARD_PROCESSING_FEES) == 3_230
    assert account_balance(code=A.OPERATING_BANK) == -3_230


def test_card_deposit_unsettled_is_uncleared_until_marked(matter, now, no_low_threshold, users):
    d = deposit(matter, now, 20_000, method=DepositMethod.CARD, ref="", day=date(2026, 11, 2))
    assert d.clears_on is None
    assert selectors.trust_position(matter, date(2026, 11, 2)).available_cents == 0
    with pytest.raises(TrustError) as err:
        services.disbursement_request(
            matter=matter,
            payee="USCIS",
            amount_cents=1,
            purpose=DisbursementPurpose.FILING_FEE,
            method=DisbursementMethod.CHECK,
            actor=users["PARALEGAL"],
            now=now,
        )
    assert err.value.message == (
        f"amount: $0.01 exceeds the cleared trust funds available on matter {matter.number} "
        "($0.00; uncleared $200.00, disputed $0.00)"
    )
    services.deposit_mark_cleared(
        deposit=d, cleared_on=date(2026, 11, 2), actor=users["BILLING"], now=now
    )
    assert selectors.trust_position(matter, date(2026, 11, 2)).available_cents == 20_000


def test_bad_deposit_input(matter, now):
    with pytest.raises(TrustError) as err:
        deposit(matter, now, 1_000, method=DepositMethod.CHECK, ref="")
    assert err.value.message == "reference: a check deposit needs the check number"
    other = MatterFactory()
    with pytest.raises(TrustError) as err:
        services.deposit_record(
            client=other.client,
            matter=matter,
            method=DepositMethod.CASH,
            payer="x",
            amount_cents=1,
            received_date=OLD,
            actor=None,
            now=now,
        )
    assert err.value.message == f"matter: {matter} belongs to another client"
    assert not TrustDeposit.objects.exists()
    assert not JournalEntry.objects.filter(kind="TRUST_DEPOSIT").exists()


def test_trust_request_paid_by_deposits(matter, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = services.trust_request_create(
            client=matter.client,
            matter=matter,
            kind=TrustRequestKind.RETAINER,
            amount_cents=300_000,
            due_date=date(2026, 11, 16),
            actor=None,
            now=now,
        )
    assert req.number.startswith("TR-")
    assert "/pay/t/" in mail.outbox[0].body
    deposit(matter, now, 100_000, trust_request=req)
    req.refresh_from_db()
    assert req.status == TrustRequestStatus.PARTIALLY_PAID
    deposit(matter, now, 200_000, trust_request=req, ref="W-2")
    req.refresh_from_db()
    assert (req.status, req.received_cents) == (TrustRequestStatus.PAID, 300_000)


def test_apply_trust_to_invoice_earned_fees_only(matter, now, users, no_low_threshold):
    deposit(matter, now, 100_000)
    inv = issued_invoice(matter=matter, cents=60_000, now=now, day=date(2026, 10, 15))
    with pytest.raises(TrustError) as err:
        services.trust_apply_to_invoice(
            invoice=inv, amount_cents=70_000, actor=users["BILLING"], now=now
        )
    assert (
        err.value.message == f"amount: $700.00 exceeds the unpaid amount of invoice {inv} ($600.00)"
    )
    with pytest.raises(TrustError) as err:
        services.trust_apply_to_invoice(
            invoice=inv, actor=users["BILLING"], now=now, transfer_date=date(2026, 10, 14)
        )
    assert err.value.message == (
        "transfer_date: cannot be before the invoice's issue date 2026-10-15 (got 2026-10-14)"
    )
    transfer = services.trust_apply_to_invoice(invoice=inv, actor=users["BILLING"], now=now)
    assert transfer.amount_cents == 60_000
    assert invoice_balance_due(inv) == 0
    assert client_trust_balance(client=matter.client, matter=matter) == 40_000
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == 0
    assert account_balance(code=A.OPERATING_BANK) == 60_000
    assert account_balance(code=A.TRUST_BANK) == 40_000


def test_apply_trust_refused_for_void_and_draft(matter, now, users):
    deposit(matter, now, 100_000)
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    Invoice.objects.filter(pk=inv.pk).update(status="VOID")
    with pytest.raises(TrustError) as err:
        services.trust_apply_to_invoice(invoice=inv, actor=users["BILLING"], now=now)
    assert err.value.message == f"invoice: {inv} is void; trust cannot pay it"
    # A void invoice never leaves VOID (billing's database guard), so the draft is another one.
    draft = cast(
        Invoice,
        InvoiceFactory(
            matter=matter, client=matter.client, status="DRAFT", number=None, total_cents=10_000
        ),
    )
    with pytest.raises(TrustError) as err:
        services.trust_apply_to_invoice(invoice=draft, actor=users["BILLING"], now=now)
    assert err.value.message.startswith(f"invoice: {draft} is not issued")
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000


def test_auto_apply_on_issue(matter, now, no_low_threshold):
    matter.client.auto_apply_trust = True
    matter.client.save()
    deposit(matter, now, 25_000)
    deposit(
        matter, now, 50_000, day=date(2026, 11, 2), method=DepositMethod.CHECK, ref="77"
    )  # uncleared
    inv = issued_invoice(matter=matter, cents=40_000, now=now, day=date(2026, 11, 2))
    # Only the cleared $250 pays: the uncleared check cannot.
    assert invoice_balance_due(inv) == 15_000
    assert client_trust_balance(client=matter.client, matter=matter) == 50_000


def test_no_auto_apply_without_the_client_choice(matter, now, no_low_threshold):
    deposit(matter, now, 25_000)
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    assert invoice_balance_due(inv) == 10_000


def test_disputed_amount_cannot_move_until_released(matter, now, users, no_low_threshold):
    deposit(matter, now, 100_000)
    hold = services.dispute_hold_create(
        matter=matter, amount_cents=70_000, reason="Fee dispute", actor=users["PARTNER"], now=now
    )
    inv = issued_invoice(matter=matter, cents=50_000, now=now)
    with pytest.raises(TrustError) as err:
        services.trust_apply_to_invoice(
            invoice=inv, amount_cents=50_000, actor=users["BILLING"], now=now
        )
    assert "($300.00; uncleared $0.00, disputed $700.00)" in err.value.message
    services.dispute_hold_release(hold=hold, actor=users["PARTNER"], now=now)
    services.trust_apply_to_invoice(
        invoice=inv, amount_cents=50_000, actor=users["BILLING"], now=now
    )
    assert client_trust_balance(client=matter.client, matter=matter) == 50_000


def _request(matter, now, user, cents):
    return services.disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=cents,
        purpose=DisbursementPurpose.FILING_FEE,
        method=DisbursementMethod.CHECK,
        reference="chk 501",
        actor=user,
        now=now,
    )


def test_disbursement_single_approval_posts(matter, now, users, no_low_threshold):
    deposit(matter, now, 100_000)
    d = _request(matter, now, users["PARALEGAL"], 46_000)
    assert d.required_approvals == 1
    d = services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
    assert d.status == DisbursementStatus.APPROVED
    d = services.disbursement_post(disbursement=d, actor=users["ATTORNEY"], now=now)
    assert d.status == DisbursementStatus.POSTED
    assert client_trust_balance(client=matter.client, matter=matter) == 54_000
    assert d.entry is not None
    assert d.entry.disbursement_id == d.pk


def test_dual_approval_rules(matter, now, users, make_user, no_low_threshold):
    Firm.objects.update_or_create(id=1, defaults={"disbursement_dual_approval_cents": 50_000})
    deposit(matter, now, 200_000)
    d = _request(matter, now, users["PARTNER"], 60_000)
    assert d.required_approvals == 2
    with pytest.raises(TrustError) as err:
        services.disbursement_approve(disbursement=d, approver=users["PARTNER"], now=now)
    assert err.value.message == "approver: the requester cannot approve their own disbursement"
    with pytest.raises(TrustError) as err:
        services.disbursement_approve(disbursement=d, approver=users["BILLING"], now=now)
    assert (
        err.value.message
        == "approver: only partners and attorneys may approve disbursements (got Billing (finance))"
    )
    services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
    with pytest.raises(TrustError) as err:
        services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
    assert err.value.message.startswith(f"approver: attorney has already approved {d.number}")
    d.refresh_from_db()
    assert d.status == DisbursementStatus.REQUESTED
    assert not d.is_approved
    with pytest.raises(TrustError):
        services.disbursement_post(disbursement=d, actor=users["ATTORNEY"], now=now)
    partner2 = make_user(role="PARTNER", username="partner2")
    d = services.disbursement_approve(disbursement=d, approver=partner2, now=now)
    assert d.status == DisbursementStatus.APPROVED
    assert d.is_approved
    services.disbursement_post(disbursement=d, actor=partner2, now=now)
    assert client_trust_balance(client=matter.client, matter=matter) == 140_000


def test_rejected_and_expired_move_nothing(matter, now, users, no_low_threshold):
    deposit(matter, now, 100_000)
    d1 = _request(matter, now, users["PARALEGAL"], 10_000)
    services.disbursement_reject(
        disbursement=d1, actor=users["ATTORNEY"], now=now, note="wrong payee"
    )
    d2 = _request(matter, now, users["PARALEGAL"], 10_000)
    services.disbursement_approve(disbursement=d2, approver=users["ATTORNEY"], now=now)
    later = now + timedelta(days=45)
    assert services.disbursements_expire(now=later) == 1
    d2.refresh_from_db()
    assert d2.status == DisbursementStatus.EXPIRED
    with pytest.raises(TrustError):
        services.disbursement_post(disbursement=d2, actor=users["ATTORNEY"], now=later)
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000
    assert not JournalEntry.objects.filter(kind="TRUST_DISBURSEMENT").exists()


def test_balance_rechecked_when_posting(matter, now, users, no_low_threshold):
    deposit(matter, now, 100_000)
    a = _request(matter, now, users["PARALEGAL"], 70_000)
    b = _request(matter, now, users["PARALEGAL"], 70_000)
    for d in (a, b):
        services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
    services.disbursement_post(disbursement=a, actor=users["ATTORNEY"], now=now)
    with pytest.raises(TrustError) as err:
        services.disbursement_post(disbursement=b, actor=users["ATTORNEY"], now=now)
    assert err.value.message.startswith("amount: $700.00 exceeds the cleared trust funds available")
    assert client_trust_balance(client=matter.client, matter=matter) == 30_000


def test_low_balance_one_task_and_auto_replenishment(matter, now, users):
    TrustSettings.objects.update_or_create(
        id=1, defaults={"low_balance_threshold_cents": 50_000, "auto_replenish": True}
    )
    deposit(matter, now, 100_000)
    a = _request(matter, now, users["PARALEGAL"], 60_000)
    services.disbursement_approve(disbursement=a, approver=users["ATTORNEY"], now=now)
    services.disbursement_post(disbursement=a, actor=users["ATTORNEY"], now=now)
    b = _request(matter, now, users["PARALEGAL"], 10_000)
    services.disbursement_approve(disbursement=b, approver=users["ATTORNEY"], now=now)
    services.disbursement_post(disbursement=b, actor=users["ATTORNEY"], now=now)
    tasks = Task.objects.filter(system_key=f"trust.low_balance:{matter.pk}")
    assert tasks.count() == 1
    assert tasks.get().assignee_role == "BILLING"
    reqs = TrustRequest.objects.filter(matter=matter, kind=TrustRequestKind.REPLENISHMENT)
    assert reqs.count() == 1
    assert reqs.get().amount_cents == 50_000 - 40_000


def test_low_balance_sweep_and_failed_notice_retry(matter, now, settings):
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 50_000})
    d = deposit(matter, now, 10_000)
    assert services.low_balance_sweep(now=now) == 1
    assert services.low_balance_sweep(now=now) == 1
    assert Task.objects.filter(system_key=f"trust.low_balance:{matter.pk}").count() == 1
    # The deposit's notice was never sent (no on-commit in this test): the outbox's periodic
    # job sends it, once.
    notice = OutboxMessage.objects.get(key=f"trust.receipt:{d.pk}")
    assert notice.status == "PENDING"
    assert outbox.outbox_tick(now=now)["sent"] >= 1
    notice.refresh_from_db()
    assert notice.status == "SENT"
    assert outbox.outbox_tick(now=now)["sent"] == 0
