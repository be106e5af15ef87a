"""Every refusal of the trust services that no other test triggered: each is raised with the
message naming the field and the rule, and a refused call leaves every trust row, journal entry
and audit event as it was (``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger.models import JournalEntry
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust import services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    Disbursement,
    DisputeHold,
    MatterTrust,
    TrustDeposit,
    TrustRequest,
    TrustSettings,
)

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 1)


def _state() -> dict[str, Any]:
    """What a refused call must leave untouched."""
    return {
        "deposits": list(TrustDeposit.objects.values().order_by("id")),
        "requests": list(TrustRequest.objects.values().order_by("id")),
        "disbursements": list(Disbursement.objects.values().order_by("id")),
        "disputes": list(DisputeHold.objects.values().order_by("id")),
        "matter_trust": list(MatterTrust.objects.values().order_by("id")),
        "settings": list(TrustSettings.objects.values().order_by("id")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, *args, match=..., **kwargs)``: the call raises TrustError matching
    ``match`` and changes nothing."""

    def check(call: Callable[..., Any], *args: Any, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(TrustError, match=match):
            call(*args, **kwargs)
        assert _state() == before

    return check


def deposit(matter: Any, now: Any, **kw: Any) -> TrustDeposit:
    args: dict[str, Any] = {
        "client": matter.client,
        "matter": matter,
        "method": "WIRE",
        "payer": "Acme",
        "reference": "W1",
        "amount_cents": 100_000,
        "received_date": DAY,
        "actor": None,
        "now": now,
    }
    return services.deposit_record(**{**args, **kw})


def settings_args(users: dict[str, Any], now: Any, **kw: Any) -> dict[str, Any]:
    return {
        "actor": users["PARTNER"],
        "now": now,
        "low_balance_threshold_cents": 0,
        "auto_replenish": False,
        "check_clear_days": 5,
        "ach_clear_days": 3,
        "wire_clear_days": 0,
        "cash_clear_days": 0,
        "processor_nets_fee": False,
        "disbursement_expiry_days": 30,
        **kw,
    }


def test_settings_refuse_a_negative_threshold_and_clearing_days_past_30(users, now, refused):
    refused(
        services.trust_settings_update,
        match=r"^threshold: must be zero or more \(got -\$1\.00\)$",
        **settings_args(users, now, low_balance_threshold_cents=-100),
    )
    refused(
        services.trust_settings_update,
        match=r"^ach_clear_days: must be between 0 and 30 business days \(got 31\)$",
        **settings_args(users, now, ach_clear_days=31),
    )
    refused(
        services.trust_settings_update,
        match=r"^check_clear_days: must be between 0 and 30 business days \(got -1\)$",
        **settings_args(users, now, check_clear_days=-1),
    )


def test_matter_threshold_refuses_a_negative_amount(users, now, refused):
    refused(
        services.matter_threshold_set,
        match=r"^threshold: must be zero or more \(got -\$0\.01\)$",
        matter=MatterFactory(),
        threshold_cents=-1,
        actor=users["PARTNER"],
        now=now,
    )


def test_trust_request_refuses_an_unknown_kind_and_cancelling_twice(users, now, refused):
    m = MatterFactory()
    args = {
        "client": m.client,
        "matter": m,
        "amount_cents": 50_000,
        "due_date": now.date() + timedelta(days=10),
        "actor": users["BILLING"],
        "now": now,
        "send": False,
    }
    refused(
        services.trust_request_create,
        match=r"^kind: must be one of .*RETAINER.* \(got 'GIFT'\)$",
        kind="GIFT",
        **args,
    )
    request = services.trust_request_create(kind="RETAINER", **args)
    services.trust_request_cancel(request=request, actor=users["BILLING"], now=now)
    refused(
        services.trust_request_cancel,
        match=rf"^trust_request: {request.number} is cancelled; only an unpaid request can be "
        "cancelled$",
        request=request,
        actor=users["BILLING"],
        now=now,
    )


def test_deposit_refuses_each_bad_input_naming_its_field(now, refused):
    m = MatterFactory()
    refused(
        deposit, m, now, match=r"^method: must be one of .* \(got 'BITCOIN'\)$", method="BITCOIN"
    )
    refused(deposit, m, now, match=r"^payer: who paid is required$", payer="  ")
    refused(
        deposit, m, now, match=r"^reference: a wire deposit needs the wire reference$", reference=""
    )
    refused(
        deposit,
        m,
        now,
        match=r"^fee: must be between 0 and \$1,000\.00 \(got \$1,000\.01\)$",
        fee_cents=100_001,
    )
    refused(
        deposit,
        m,
        now,
        match=r"^fee: must be between 0 and \$1,000\.00 \(got -\$1\.00\)$",
        fee_cents=-100,
    )
    tomorrow = now.date() + timedelta(days=1)
    refused(
        deposit,
        m,
        now,
        match=rf"^received_date: cannot be after today \({now.date()}\) \(got {tomorrow}\)$",
        received_date=tomorrow,
    )


def test_deposit_refuses_a_request_of_another_matter_or_a_cancelled_one(users, now, refused):
    m, other = MatterFactory(), MatterFactory()
    args = {
        "kind": "RETAINER",
        "amount_cents": 50_000,
        "due_date": now.date() + timedelta(days=10),
        "actor": users["BILLING"],
        "now": now,
        "send": False,
    }
    elsewhere = services.trust_request_create(client=other.client, matter=other, **args)
    refused(
        deposit,
        m,
        now,
        match=rf"^trust_request: {elsewhere.number} is for another matter$",
        trust_request=elsewhere,
    )
    cancelled = services.trust_request_create(client=m.client, matter=m, **args)
    services.trust_request_cancel(request=cancelled, actor=users["BILLING"], now=now)
    refused(
        deposit,
        m,
        now,
        match=rf"^trust_request: {cancelled.number} is cancelled; it takes no more payments$",
        trust_request=cancelled,
    )


def test_a_cleared_deposit_is_not_cleared_again(now, refused):
    d = deposit(MatterFactory(), now)  # a wire clears the day it is received
    refused(
        services.deposit_mark_cleared,
        match=rf"^deposit: {d.receipt_number} already cleared on {d.clears_on}$",
        deposit=d,
        cleared_on=now.date(),
        actor=None,
        now=now,
    )


def test_dispute_refuses_no_reason_more_than_the_free_balance_and_a_second_release(
    users, now, refused
):
    m = MatterFactory()
    deposit(m, now)
    args = {"matter": m, "actor": users["PARTNER"], "now": now}
    refused(
        services.dispute_hold_create,
        match=r"^reason: say what is disputed$",
        amount_cents=1_000,
        reason=" ",
        **args,
    )
    hold = services.dispute_hold_create(amount_cents=60_000, reason="fee dispute", **args)
    refused(
        services.dispute_hold_create,
        match=rf"^amount: \$500\.00 exceeds the trust balance not already disputed on matter "
        rf"{m.number} \(\$400\.00\)$",
        amount_cents=50_000,
        reason="second",
        **args,
    )
    services.dispute_hold_release(hold=hold, actor=users["PARTNER"], now=now)
    refused(
        services.dispute_hold_release,
        match=r"^dispute: already released$",
        hold=hold,
        actor=users["PARTNER"],
        now=now,
    )


def test_disbursement_request_refuses_no_payee_and_unknown_purpose_or_method(users, now, refused):
    m = MatterFactory()
    deposit(m, now)
    args = {
        "matter": m,
        "payee": "USCIS",
        "amount_cents": 10_000,
        "purpose": "THIRD_PARTY",
        "method": "CHECK",
        "actor": users["BILLING"],
        "now": now,
    }
    refused(
        services.disbursement_request,
        match=r"^payee: who is paid is required$",
        **{**args, "payee": ""},
    )
    refused(
        services.disbursement_request,
        match=r"^purpose: must be one of .* \(got 'GIFT'\)$",
        **{**args, "purpose": "GIFT"},
    )
    refused(
        services.disbursement_request,
        match=r"^method: must be one of .* \(got 'CASH_APP'\)$",
        **{**args, "method": "CASH_APP"},
    )


def test_a_filing_fee_from_trust_is_refused_when_the_firm_advanced_that_fee(users, now, refused):
    """Billing ADR 011: a fee the firm advanced is billed to the client, so paying it from trust
    too would charge twice; a filing fee to USCIS without a fee code must say which it pays."""
    from caseledger.billing.services import fee_advance_record

    m = MatterFactory()
    deposit(m, now)
    advance = fee_advance_record(
        matter=m,
        fee_code="I129",
        amount="780.00",
        paid_date=DAY,
        method="CHECK",
        actor=users["BILLING"],
        now=now,
    )
    args = {
        "matter": m,
        "payee": "U.S. Department of Homeland Security",
        "amount_cents": 78_000,
        "purpose": "FILING_FEE",
        "method": "CHECK",
        "actor": users["BILLING"],
        "now": now,
    }
    refused(
        services.disbursement_request,
        match=rf"^fee_code: the I129 fee of matter {m.number} was already advanced by the firm "
        rf"\(.*, \$780\.00 on {advance.paid_date}\); paying it from trust too would charge the "
        r"client twice$",
        fee_code="I129",
        **args,
    )
    refused(
        services.disbursement_request,
        match=r"^fee_code: say which government fee this filing fee to U\.S\. Department of "
        rf"Homeland Security pays: matter {m.number} already has government fees billed or "
        r"advanced \(I129\)$",
        **args,
    )


def test_a_deposit_of_nothing_is_refused(now, refused):
    refused(
        deposit,
        MatterFactory(),
        now,
        match=r"^amount: must be positive \(got \$0\.00\)$",
        amount_cents=0,
    )


def test_trust_does_not_pay_an_invoice_twice(now, refused):
    from caseledger.payments.tests.factories import issued_invoice

    m = MatterFactory()
    deposit(m, now)
    invoice = issued_invoice(matter=m, cents=30_000, now=now)
    services.trust_apply_to_invoice(invoice=invoice, actor=None, now=now)
    refused(
        services.trust_apply_to_invoice,
        match=rf"^invoice: {invoice} has nothing left to pay$",
        invoice=invoice,
        actor=None,
        now=now,
    )


def test_an_expired_disbursement_is_neither_approved_nor_posted(users, now, refused):
    """A request unapproved past its expiry date is refused at approval; one approved in time but
    posted after it is refused at posting."""
    m = MatterFactory()
    deposit(m, now)
    args = {
        "matter": m,
        "payee": "Courier Co",
        "amount_cents": 5_000,
        "purpose": "THIRD_PARTY",
        "method": "CHECK",
        "actor": users["BILLING"],
        "now": now,
    }
    late = now + timedelta(days=400)
    waiting = services.disbursement_request(**args)
    refused(
        services.disbursement_approve,
        match=rf"^disbursement: {waiting.number} expired on {waiting.expires_on}$",
        disbursement=waiting,
        approver=users["PARTNER"],
        now=late,
    )
    approved = services.disbursement_request(**args)
    services.disbursement_approve(disbursement=approved, approver=users["PARTNER"], now=now)
    refused(
        services.disbursement_post,
        match=rf"^disbursement: {approved.number} expired on {approved.expires_on}$",
        disbursement=approved,
        actor=users["BILLING"],
        now=late,
    )


def test_trust_moves_to_operating_only_against_an_issued_invoice(now, refused):
    from caseledger.ledger.tests.factories import InvoiceFactory

    m = MatterFactory()
    deposit(m, now)
    invoice = InvoiceFactory(
        matter=m, client=m.client, total_cents=30_000, subtotal_cents=30_000, status="APPROVED"
    )
    refused(
        services.trust_apply_to_invoice,
        match=rf"^invoice: {invoice} is not issued; trust moves to operating only against an "
        "issued invoice$",
        invoice=invoice,
        actor=None,
        now=now,
    )


def test_a_disbursement_is_not_posted_with_fewer_approvals_than_it_requires(users, now, refused):
    """Approved under one approval, then the request is found to need two (the dual-approval
    threshold applies to it): posting waits for the second partner."""
    m = MatterFactory()
    deposit(m, now)
    request = services.disbursement_request(
        matter=m,
        payee="Courier Co",
        amount_cents=5_000,
        purpose="THIRD_PARTY",
        method="CHECK",
        actor=users["BILLING"],
        now=now,
    )
    services.disbursement_approve(disbursement=request, approver=users["PARTNER"], now=now)
    Disbursement.objects.filter(pk=request.pk).update(required_approvals=2)
    request.refresh_from_db()
    refused(
        services.disbursement_post,
        match=rf"^disbursement: {request.number} needs 2 approval\(s\) and has 1$",
        disbursement=request,
        actor=users["BILLING"],
        now=now,
    )
