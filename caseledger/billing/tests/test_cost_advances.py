"""Client cost advances (``Expense.kind=COST_ADVANCE``): advancing posts Dr 1300 / Cr 1000,
billing relieves 1300, and 1300 always equals the advances no issued invoice has billed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.billing import services
from caseledger.billing.models import Expense, FeeAdvance, Invoice
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.ledger import accounts
from caseledger.ledger import selectors as ledger

pytestmark = pytest.mark.django_db


def _advance(world: Any, amount: str = "85.00", **kwargs: Any) -> Expense:
    data: dict[str, Any] = {
        "matter": world.matter,
        "kind": "COST_ADVANCE",
        "expense_date": clock.firm_date(world.now),
        "description": "FedEx to USCIS Vermont Service Center paid for client",
        "amount": amount,
        "expense_code": "E108",
        "actor": world.billing,
        "now": world.now,
    }
    data.update(kwargs)
    return services.expense_create(**data)


def _advances_1300(world: Any) -> int:
    return ledger.account_balance(
        code=accounts.CLIENT_COST_ADVANCES, client=world.matter.client, matter=world.matter
    )


def _unbilled_advances(world: Any) -> int:
    """What 1300 must hold for the matter: cost advances and fee advances that no issued
    invoice has billed (a draft's lines do not relieve it)."""
    costs = sum(
        e.amount_cents
        for e in Expense.objects.filter(matter=world.matter, kind="COST_ADVANCE").select_related(
            "invoice_line__invoice"
        )
        if e.invoice_line is None or e.invoice_line.invoice.status != "ISSUED"
    )
    fees = sum(
        a.amount_cents
        for a in FeeAdvance.objects.filter(matter=world.matter).select_related(
            "invoice_line__invoice"
        )
        if a.invoice_line is None or a.invoice_line.invoice.status != "ISSUED"
    )
    return costs + fees


def _bill_unbilled(world: Any) -> Invoice:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, include_unbilled=True
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    return services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)


def test_advancing_a_cost_posts_1300_against_operating_and_billing_relieves_it(
    world: Any,
) -> None:
    bank_before = ledger.account_balance(code=accounts.OPERATING_BANK)
    expense = _advance(world)
    assert expense.entry is not None
    postings = {
        p.account.code: (p.amount_cents, p.matter_id)
        for p in expense.entry.postings.select_related("account")
    }
    assert postings == {
        accounts.CLIENT_COST_ADVANCES: (8_500, world.matter.pk),
        accounts.OPERATING_BANK: (-8_500, None),
    }
    assert ledger.account_balance(code=accounts.OPERATING_BANK) == bank_before - 8_500
    assert _advances_1300(world) == 8_500

    invoice = _bill_unbilled(world)
    assert _advances_1300(world) == 0
    assert ledger.account_balance(code=accounts.ACCOUNTS_RECEIVABLE, matter=world.matter) == (
        invoice.total_cents
    )
    assert ledger.trial_balance().balanced
    assert ledger.ledger_verify() == []

    services.invoice_void(invoice=invoice, actor=world.partner, now=world.now, reason="wrong")
    assert _advances_1300(world) == 8_500  # waits to be billed again
    assert Expense.objects.get(pk=expense.pk).invoice_line is None


def test_an_expense_posts_nothing_and_correcting_an_advance_reposts_it(world: Any) -> None:
    plain = _advance(world, kind="EXPENSE", amount="40.00")
    assert plain.entry is None
    assert _advances_1300(world) == 0

    expense = _advance(world)
    first = expense.entry
    assert first is not None
    changed = services.expense_update(
        expense=expense,
        kind="COST_ADVANCE",
        expense_date=expense.expense_date,
        description=expense.description,
        amount="120.00",
        expense_code="E108",
        billable=True,
        actor=world.billing,
        now=world.now,
    )
    assert changed.entry_id not in (None, first.pk)
    assert ledger.entry_reversed_by(entry=first) is not None
    assert _advances_1300(world) == 12_000

    # Only "billable" changes: the payment stands as posted.
    same = services.expense_update(
        expense=changed,
        kind="COST_ADVANCE",
        expense_date=changed.expense_date,
        description=changed.description,
        amount="120.00",
        expense_code="E108",
        billable=False,
        actor=world.billing,
        now=world.now,
    )
    assert same.entry_id == changed.entry_id

    as_expense = services.expense_update(
        expense=same,
        kind="EXPENSE",
        expense_date=same.expense_date,
        description=same.description,
        amount="120.00",
        expense_code="E108",
        billable=True,
        actor=world.billing,
        now=world.now,
    )
    assert as_expense.entry is None
    assert _advances_1300(world) == 0

    again = _advance(world, amount="30.00")
    services.expense_delete(expense=again, actor=world.billing, now=world.now)
    assert _advances_1300(world) == 0
    assert ledger.trial_balance().balanced
    assert ledger.ledger_verify() == []


def test_a_billed_advance_cannot_change_and_its_payment_stays(world: Any) -> None:
    expense = _advance(world)
    _bill_unbilled(world)
    with pytest.raises(ApplicationError) as exc:
        services.expense_delete(expense=expense, actor=world.billing, now=world.now)
    assert exc.value.message.startswith("expense: already billed on invoice 2026-")
    entry = Expense.objects.get(pk=expense.pk).entry
    assert entry is not None
    assert ledger.entry_reversed_by(entry=entry) is None
    assert _advances_1300(world) == 0


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(1, 500_000)),
        st.tuples(st.just("expense"), st.integers(1, 500_000)),
        st.tuples(st.just("edit"), st.integers(0, 5), st.integers(1, 500_000), st.booleans()),
        st.tuples(st.just("delete"), st.integers(0, 5)),
        st.tuples(st.just("bill")),
        st.tuples(st.just("void")),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_1300_is_always_the_unbilled_advances_and_never_a_credit(world: Any, ops: list) -> None:
    """Any sequence of advances, plain expenses, corrections, deletions, billing runs and voids:
    the trial balance balances, 1300 never holds a credit, and 1300 for the matter equals the
    cost and fee advances that no issued invoice has billed."""
    with transaction.atomic():
        for op in ops:
            unbilled = list(
                Expense.objects.filter(matter=world.matter, invoice_line__isnull=True).order_by(
                    "id"
                )
            )
            try:
                with transaction.atomic():
                    if op[0] in ("advance", "expense"):
                        _advance(
                            world,
                            kind="COST_ADVANCE" if op[0] == "advance" else "EXPENSE",
                            amount=f"{op[1] / 100:.2f}",
                        )
                    elif op[0] == "edit" and unbilled:
                        row = unbilled[op[1] % len(unbilled)]
                        services.expense_update(
                            expense=row,
                            kind="COST_ADVANCE" if op[3] else "EXPENSE",
                            expense_date=row.expense_date,
                            description=row.description,
                            amount=f"{op[2] / 100:.2f}",
                            expense_code=row.expense_code,
                            billable=True,
                            actor=world.billing,
                            now=world.now,
                        )
                    elif op[0] == "delete" and unbilled:
                        row = unbilled[op[1] % len(unbilled)]
                        services.expense_delete(expense=row, actor=world.billing, now=world.now)
                    elif op[0] == "bill" and unbilled:
                        _bill_unbilled(world)
                    elif op[0] == "void":
                        last = (
                            Invoice.objects.filter(matter=world.matter, status="ISSUED")
                            .order_by("-id")
                            .first()
                        )
                        if last is not None:
                            services.invoice_void(
                                invoice=last, actor=world.partner, now=world.now, reason="redo"
                            )
            except ApplicationError:
                pass
            assert ledger.trial_balance().balanced
            assert _advances_1300(world) == _unbilled_advances(world)
            assert _advances_1300(world) >= 0
            assert ledger.account_balance(code=accounts.CLIENT_COST_ADVANCES) >= 0
        assert ledger.ledger_verify() == []
        transaction.set_rollback(True)
