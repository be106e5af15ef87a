"""Government fees, the three ways they are paid (ADR 011): the firm advances them and bills
them, the client's trust pays them, or the client pays USCIS directly. 1300 client cost advances
never holds a credit balance, and no fee is both paid from trust and billed or advanced."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.billing import services as billing
from caseledger.billing.choices import FeePath, InvoiceStatus, LineKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import FeeAdvance, Invoice, InvoiceLine
from caseledger.billing.tests.factories import build_world
from caseledger.core.exceptions import ApplicationError
from caseledger.ledger import accounts
from caseledger.ledger.models import Posting
from caseledger.ledger.selectors import ledger_verify
from caseledger.trust import services as trust
from caseledger.trust.choices import DepositMethod, DisbursementStatus
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement

pytestmark = pytest.mark.django_db

OLD = date(2026, 10, 1)
DHS = "U.S. Department of Homeland Security"
FEES = {"I129": 78_000, "ACWIA": 150_000, "FRAUD": 50_000}


@pytest.fixture
def world(users: dict[str, Any], settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world(users)


def _fund(matter: Any, cents: int, now: Any, ref: str = "W-1") -> None:
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Northwind",
        amount_cents=cents,
        received_date=OLD,
        reference=ref,
        actor=None,
        now=now,
    )


def _pay_from_trust(world: Any, matter: Any, code: str, cents: int) -> Disbursement:
    d = trust.disbursement_request(
        matter=matter,
        payee=DHS,
        amount_cents=cents,
        purpose="FILING_FEE",
        method="CHECK",
        fee_code=code,
        actor=world.paralegal,
        now=world.now,
    )
    trust.disbursement_approve(disbursement=d, approver=world.attorney, now=world.now)
    return trust.disbursement_post(disbursement=d, actor=world.attorney, now=world.now)


def _advance(world: Any, matter: Any, code: str, cents: int) -> FeeAdvance:
    return billing.fee_advance_record(
        matter=matter,
        fee_code=code,
        amount=f"{cents // 100}.{cents % 100:02d}",
        paid_date=OLD,
        method="CHECK",
        reference="1044",
        actor=world.billing,
        now=world.now,
    )


def _approve_issue(world: Any, invoice: Invoice) -> Invoice:
    billing.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    billing.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    return billing.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)


def _advances_cents(matter: Any = None) -> int:
    """1300's balance (debit positive), for a matter or in total."""
    rows = Posting.objects.filter(account__code=accounts.CLIENT_COST_ADVANCES)
    if matter is not None:
        rows = rows.filter(matter=matter)
    return int(rows.aggregate(t=Sum("amount_cents"))["t"] or 0)


def test_firm_advance_then_bill_and_trust_may_not_pay_it_again(world: Any) -> None:
    invoice = billing.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    billing.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    billing.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    with pytest.raises(BillingError, match=r"bills a \$780\.00 I129 fee the firm has not advanced"):
        billing.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    assert _advances_cents() == 0
    advances = [_advance(world, world.matter, code, cents) for code, cents in FEES.items()]
    assert _advances_cents(world.matter) == sum(FEES.values())  # Dr 1300, Cr operating
    operating = Posting.objects.filter(account__code=accounts.OPERATING_BANK)
    assert operating.aggregate(t=Sum("amount_cents"))["t"] == -sum(FEES.values())
    issued = billing.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    assert _advances_cents(world.matter) == 0  # billed: Dr A/R, Cr 1300
    assert {a.pk for a in FeeAdvance.objects.filter(invoice_line__invoice=issued)} == {
        a.pk for a in advances
    }
    _fund(world.matter, 500_000, world.now)
    with pytest.raises(
        TrustError, match=rf"I129 fee of matter .* was already billed on invoice {issued.number}"
    ):
        _pay_from_trust(world, world.matter, "I129", 78_000)
    with pytest.raises(TrustError, match=r"say which government fee this filing fee"):
        trust.disbursement_request(
            matter=world.matter,
            payee="USCIS",
            amount_cents=78_000,
            purpose="FILING_FEE",
            method="CHECK",
            actor=world.paralegal,
            now=world.now,
        )
    assert ledger_verify() == []


def test_void_frees_the_advance_and_1300_holds_it_again(world: Any) -> None:
    invoice = billing.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    for code, cents in FEES.items():
        _advance(world, world.matter, code, cents)
    issued = _approve_issue(world, invoice)
    billing.invoice_void(invoice=issued, actor=world.partner, now=world.now, reason="Wrong payer")
    assert _advances_cents(world.matter) == sum(FEES.values())
    assert FeeAdvance.objects.filter(invoice_line__isnull=True).count() == 3


def test_an_advance_refuses_a_trust_payment_of_the_same_fee_naming_it(world: Any) -> None:
    advance = _advance(world, world.matter, "I129", 78_000)
    _fund(world.matter, 100_000, world.now)
    with pytest.raises(TrustError, match=rf"advanced by the firm \({advance}, \$780\.00"):
        _pay_from_trust(world, world.matter, "I129", 78_000)


def test_fee_paid_from_trust_is_shown_and_never_billed_or_advanced(world: Any) -> None:
    _fund(world.matter, 300_000, world.now)
    paid = _pay_from_trust(world, world.matter, "I129", 78_000)
    invoice = billing.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    line = invoice.lines.get(fee_code="I129")
    assert (line.fee_path, line.amount_cents, line.fee_amount_cents) == (
        FeePath.FROM_TRUST,
        0,
        78_000,
    )
    assert f"Paid from trust: disbursement {paid.number}" in line.fee_note
    with pytest.raises(BillingError, match=r"I129 fee of matter .* was paid from trust"):
        _advance(world, world.matter, "I129", 78_000)
    with pytest.raises(BillingError, match=r"was paid from trust"):
        billing.invoice_line_fee_path_set(
            line=line, fee_path=FeePath.FIRM_ADVANCE, actor=world.billing, now=world.now
        )
    _advance(world, world.matter, "ACWIA", 150_000)
    _advance(world, world.matter, "FRAUD", 50_000)
    issued = _approve_issue(world, invoice)
    assert issued.total_cents == 350_000 + 150_000 + 50_000  # legal fee + advanced fees only
    assert _advances_cents(world.matter) == 0
    pdf = billing.payment_link_for(invoice=issued)
    assert pdf  # the issued invoice renders (its PDF holds the "paid from trust" line)


def test_client_pays_uscis_directly_for_information_only(world: Any) -> None:
    invoice = billing.invoice_draft_create(
        matter=world.matter,
        actor=world.billing,
        now=world.now,
        template=world.template,
        fee_path=FeePath.CLIENT_DIRECT,
    )
    lines = invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE)
    assert {(ln.fee_path, ln.amount_cents) for ln in lines} == {(FeePath.CLIENT_DIRECT, 0)}
    issued = _approve_issue(world, invoice)  # nothing advanced, nothing refused
    assert issued.total_cents == 350_000
    assert _advances_cents() == 0
    assert ledger_verify() == []


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["advance", "bill", "trust", "void", "client"]),
        st.sampled_from(sorted(FEES)),
    ),
    min_size=1,
    max_size=7,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_property_1300_never_credit_and_trust_never_pays_a_billed_fee(
    world: Any, actions: list[tuple[str, str]]
) -> None:
    """Whatever order advances, bills, trust payments, client-direct lines and voids arrive in,
    1300 never holds a credit balance (per matter or in total) and no fee of a matter is both
    paid from trust and billed or advanced."""
    matter = world.new_matter()
    _fund(matter, 1_000_000, world.now, ref=f"W-{matter.pk}")
    for action, code in actions:
        cents = FEES[code]
        try:
            if action == "advance":
                _advance(world, matter, code, cents)
            elif action == "trust":
                _pay_from_trust(world, matter, code, cents)
            elif action in {"bill", "client"}:
                invoice = billing.invoice_draft_create(
                    matter=matter, actor=world.billing, now=world.now
                )
                line = billing.invoice_line_add(
                    invoice=invoice,
                    description=f"USCIS {code}",
                    unit_price=f"{cents // 100}",
                    kind=LineKind.GOVERNMENT_FEE,
                    fee_code=code,
                    actor=world.billing,
                    now=world.now,
                )
                if action == "client":
                    billing.invoice_line_fee_path_set(
                        line=line,
                        fee_path=FeePath.CLIENT_DIRECT,
                        actor=world.billing,
                        now=world.now,
                    )
                try:
                    _approve_issue(world, invoice)
                except BillingError:
                    billing.invoice_discard(
                        invoice=invoice, actor=world.billing, now=world.now, reason="not advanced"
                    )
            else:
                latest = (
                    Invoice.objects.filter(matter=matter, status=InvoiceStatus.ISSUED)
                    .order_by("-id")
                    .first()
                )
                if latest is not None:
                    billing.invoice_void(
                        invoice=latest, actor=world.partner, now=world.now, reason="Mistake"
                    )
        except ApplicationError:
            pass
        assert _advances_cents(matter) >= 0
        assert _advances_cents() >= 0
        for fee_code in FEES:
            from_trust = Disbursement.objects.filter(
                matter=matter, fee_code=fee_code, status=DisbursementStatus.POSTED
            ).exists()
            billed = InvoiceLine.objects.filter(
                invoice__matter=matter,
                invoice__status=InvoiceStatus.ISSUED,
                fee_code=fee_code,
                amount_cents__gt=0,
            ).exists()
            advanced = FeeAdvance.objects.filter(matter=matter, fee_code=fee_code).exists()
            assert not (from_trust and (billed or advanced)), (fee_code, actions)
    assert not [p for p in ledger_verify() if "1300" in p]
