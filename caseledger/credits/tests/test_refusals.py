"""Every refusal of the credits services that no other test triggered: each is raised with the
message naming the field and the rule, and a refused call leaves credit notes, write-offs,
refunds, settings, settlements, journal entries and audit events as they were
(``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.core.models import AuditEvent
from caseledger.credits import exceptions as E
from caseledger.credits.choices import ReasonCode
from caseledger.credits.models import CreditNote, CreditRefund, CreditSettings, WriteOff
from caseledger.credits.services import (
    LineInput,
    credit_note_reject,
    credit_note_request,
    credit_settings_update,
    write_off_reject,
    write_off_request,
    write_off_reverse,
)
from caseledger.credits.tests import factories as F
from caseledger.ledger.models import JournalEntry
from caseledger.payments.models import InvoiceSettlement

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    return {
        "notes": list(CreditNote.objects.values().order_by("id")),
        "write_offs": list(WriteOff.objects.values().order_by("id")),
        "refunds": list(CreditRefund.objects.values().order_by("id")),
        "settings": list(CreditSettings.objects.values().order_by("id")),
        "settlements": list(InvoiceSettlement.objects.values().order_by("id")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises CreditError matching ``match``
    and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(E.CreditError, match=match):
            call(**kwargs)
        assert _state() == before

    return check


@pytest.fixture
def inv(users: dict[str, Any]) -> Any:
    m = F.matter(partner=users["PARTNER"])
    return F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))


def test_credit_note_request_refuses_each_bad_input_naming_its_field(users, now, inv, refused):
    args = {
        "invoice": inv,
        "reason_code": ReasonCode.BILLING_ERROR,
        "actor": users["BILLING"],
        "now": now,
    }
    refused(
        credit_note_request,
        match=r"^reason_code: must be one of OVERPAYMENT, .* \(got 'WHIM'\)$",
        **{**args, "reason_code": "WHIM"},
        amount_cents=1_000,
    )
    refused(
        credit_note_request,
        match=r"^lines: give either lines or an amount, not both$",
        **args,
        lines=[LineInput(description="Fee", amount_cents=1_000)],
        amount_cents=1_000,
    )
    refused(credit_note_request, match=r"^lines: give at least one line or an amount$", **args)
    refused(
        credit_note_request,
        match=r"^lines\[1\]\.description: required$",
        **args,
        lines=[
            LineInput(description="Fee", amount_cents=1_000),
            LineInput(description="  ", amount_cents=1_000),
        ],
    )


def test_credit_note_request_refuses_an_amount_that_is_not_positive(users, now, inv, refused):
    args = {"invoice": inv, "reason_code": ReasonCode.BILLING_ERROR, "actor": users["BILLING"]}
    refused(
        credit_note_request,
        match=r"^amount: must be positive \(got \$0\.00\)$",
        **args,
        amount_cents=0,
        now=now,
    )
    refused(
        credit_note_request,
        match=r"^amount: must be positive \(got -\$5\.00\)$",
        **args,
        lines=[LineInput(description="Fee", amount_cents=-500)],
        now=now,
    )


def test_credit_note_request_refuses_a_bad_refund(users, now, inv, refused):
    args = {
        "invoice": inv,
        "reason_code": ReasonCode.BILLING_ERROR,
        "amount_cents": 10_000,
        "actor": users["BILLING"],
        "now": now,
    }
    refused(
        credit_note_request,
        match=r"^refund: must be zero or positive \(got -\$0\.01\)$",
        **args,
        refund_cents=-1,
        refund_method="CHECK",
    )
    refused(
        credit_note_request,
        match=r"^refund: \$100\.01 is over the credit note amount \$100\.00$",
        **args,
        refund_cents=10_001,
        refund_method="CHECK",
    )
    refused(
        credit_note_request,
        match=r"^refund_method: choose how to refund \$50\.00 \(check, transfer or card\)$",
        **args,
        refund_cents=5_000,
    )
    refused(
        credit_note_request,
        match=r"^refund_method: must be one of CHECK, TRANSFER, CARD, TRUST \(got 'CASH'\)$",
        **args,
        refund_cents=5_000,
        refund_method="CASH",
    )


def test_rejecting_a_credit_note_or_a_write_off_needs_a_reason(users, now, inv, refused):
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=60_000,  # over the firm's threshold: waits for a partner
        actor=users["BILLING"],
        now=now,
    )
    refused(
        credit_note_reject,
        match=r"^note: a reason is required to reject$",
        credit_note=note,
        approver=users["PARTNER"],
        now=now,
        note="  ",
    )
    write_off = write_off_request(invoice=inv, reason="Bankrupt", actor=users["BILLING"], now=now)
    refused(
        write_off_reject,
        match=r"^note: a reason is required to reject$",
        write_off=write_off,
        approver=users["PARTNER"],
        now=now,
        note="",
    )


def test_settings_refuse_an_unknown_reason_code(users, now, refused):
    refused(
        credit_settings_update,
        match=r"^approval_reason_codes: unknown reason code 'WHIM'$",
        approval_reason_codes=[ReasonCode.FEE_WAIVER, "WHIM"],
        actor=users["PARTNER"],
        now=now,
    )


def test_write_off_refuses_no_reason_a_bad_amount_and_a_reversal_without_reason(
    users, now, inv, refused
):
    args = {"invoice": inv, "actor": users["BILLING"], "now": now}
    refused(
        write_off_request,
        match=r"^reason: say why the balance is written off$",
        reason="  ",
        **args,
    )
    refused(
        write_off_request,
        match=r"^amount: must be positive \(got -\$1\.00\)$",
        reason="Bankrupt",
        amount_cents=-100,
        **args,
    )
    refused(
        write_off_request,
        match=rf"^amount: \$1,000\.01 is over the balance due on invoice {inv} \(\$1,000\.00, of "
        r"which \$0\.00 is already waiting in other write-off requests\)$",
        reason="Bankrupt",
        amount_cents=100_001,
        **args,
    )
    write_off = write_off_request(reason="Bankrupt", amount_cents=10_000, **args)
    refused(
        write_off_reverse,
        match=r"^reason: say why the write-off is reversed$",
        write_off=write_off,
        reason="",
        actor=users["BILLING"],
        now=now,
    )


def test_only_an_issued_invoice_is_credited_or_written_off(users, now, inv, refused):
    """A voided invoice (or any not issued) takes no credit note and no write-off."""
    from caseledger.billing.models import Invoice

    Invoice.objects.filter(pk=inv.pk).update(status="VOID")
    inv.refresh_from_db()
    match = r"^invoice: only an issued invoice can be credited or written off \(it is void\)$"
    refused(
        credit_note_request,
        match=match,
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=1_000,
        actor=users["BILLING"],
        now=now,
    )
    refused(
        write_off_request,
        match=match,
        invoice=inv,
        reason="Client unreachable for a year",
        amount_cents=1_000,
        actor=users["BILLING"],
        now=now,
    )
