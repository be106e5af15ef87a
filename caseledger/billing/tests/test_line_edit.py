"""Editing a draft's line in place: amounts rounded once again, totals recomputed, only on a
draft, only by whoever may add lines."""

from __future__ import annotations

from typing import Any

import pytest

from caseledger.billing import services
from caseledger.billing.exceptions import BillingError, InvoiceImmutable
from caseledger.billing.models import Invoice, InvoiceLine
from caseledger.billing.tests.factories import approved_draft, issued_invoice
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _draft(world: Any) -> Invoice:
    return services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )


def _fee_line(invoice: Invoice) -> InvoiceLine:
    return invoice.lines.order_by("position", "id").first()  # type: ignore[return-value]


def _state(invoice: Invoice) -> tuple[Any, ...]:
    invoice = Invoice.objects.get(pk=invoice.pk)
    lines = tuple(
        invoice.lines.order_by("position", "id").values_list(
            "description", "quantity", "unit_price_cents", "amount_cents", "tax_cents"
        )
    )
    return invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents, lines


def _changes(invoice: Invoice) -> int:
    return AuditEvent.objects.filter(
        action="billing.invoice_line_changed", object_id=str(invoice.pk)
    ).count()


def test_edit_recomputes_the_amount_and_the_totals(world: Any) -> None:
    invoice = _draft(world)
    line = _fee_line(invoice)
    updated = services.invoice_line_update(
        line=line,
        actor=world.billing,
        now=world.now,
        description="H-1B petition (amended scope)",
        quantity="1.5",
        unit_price="2,333.33",
    )
    assert updated.amount_cents == 350_000  # 1.5 x 2,333.33 = 3,499.995, rounded once
    invoice.refresh_from_db()
    assert invoice.subtotal_cents == invoice.total_cents == 628_000
    services.invoice_line_update(line=line, actor=world.billing, now=world.now, quantity="2")
    invoice.refresh_from_db()
    assert invoice.total_cents == 628_000 - 350_000 + 466_666
    assert sum(invoice.lines.values_list("amount_cents", flat=True)) == invoice.subtotal_cents
    first, second = AuditEvent.objects.filter(action="billing.invoice_line_changed").order_by("id")
    assert first.object_id == str(invoice.pk)
    assert first.before == {
        "line": line.pk,
        "description": "H-1B petition: preparation and filing",
        "quantity": "1.00",
        "unit_price_cents": 350_000,
    }
    assert first.after == {
        "line": line.pk,
        "description": "H-1B petition (amended scope)",
        "quantity": "1.50",
        "unit_price_cents": 233_333,
    }  # the amount is the same, so it is not in the event
    assert second.before == {"line": line.pk, "quantity": "1.50", "amount_cents": 350_000}
    assert second.after == {"line": line.pk, "quantity": "2.00", "amount_cents": 466_666}


def test_edit_with_nothing_changed_writes_nothing(world: Any) -> None:
    invoice = _draft(world)
    services.invoice_line_update(
        line=_fee_line(invoice),
        actor=world.billing,
        now=world.now,
        description="H-1B petition: preparation and filing",
        quantity="1",
        unit_price="3,500.00",
    )
    assert _changes(invoice) == 0


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"description": "   "}, "description: is required", "description"),
        ({"quantity": "0"}, "quantity: must be a number greater than zero (got '0')", "quantity"),
        ({"quantity": "-1"}, "quantity: must be a number greater than zero (got '-1')", "quantity"),
        (
            {"quantity": "1.234"},
            "quantity: must be a number greater than zero (got '1.234')",
            "quantity",
        ),
        (
            {"quantity": "two"},
            "quantity: must be a number greater than zero (got 'two')",
            "quantity",
        ),
        (
            {"unit_price": "lots"},
            "unit_price: must be an amount such as 1,234.56 (got 'lots')",
            "unit_price",
        ),
        (
            {"unit_price": "-10"},
            "unit_price: must not be negative (got -$10.00)",
            "unit_price",
        ),
        # a bad value refuses the whole edit, good values with it included
        (
            {"description": "Changed", "unit_price": "1.999"},
            "unit_price: must be an amount such as 1,234.56 (got '1.999')",
            "unit_price",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(
    world: Any, changes: dict[str, Any], message: str, field: str
) -> None:
    invoice = _draft(world)
    before = _state(invoice)
    with pytest.raises(BillingError) as exc:
        services.invoice_line_update(
            line=_fee_line(invoice), actor=world.billing, now=world.now, **changes
        )
    assert (exc.value.message, exc.value.field) == (message, field)
    assert _state(invoice) == before
    assert _changes(invoice) == 0


def test_a_returned_draft_can_be_edited_but_not_one_in_review_or_approved(world: Any) -> None:
    invoice = _draft(world)
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    before = _state(invoice)
    with pytest.raises(BillingError) as exc:
        services.invoice_line_update(
            line=_fee_line(invoice), actor=world.billing, now=world.now, unit_price="1"
        )
    assert exc.value.message == (
        f"invoice: Draft #{invoice.pk} is in review; lines are added, edited and removed only "
        "on a draft (return it to draft first)"
    )
    assert _state(invoice) == before
    services.invoice_return(
        invoice=invoice, actor=world.partner, now=world.now, comment="Discount the fee"
    )
    services.invoice_line_update(
        line=_fee_line(invoice), actor=world.billing, now=world.now, unit_price="3,000"
    )
    invoice.refresh_from_db()
    assert invoice.total_cents == 628_000 - 50_000

    approved = approved_draft(world)
    with pytest.raises(
        BillingError, match="is approved; lines are added, edited and removed only on a draft"
    ):
        services.invoice_line_update(
            line=_fee_line(approved), actor=world.billing, now=world.now, unit_price="1"
        )


def test_lines_are_not_added_or_removed_once_submitted(world: Any) -> None:
    """An approved amount never changes without a new approval: adding or removing a line on an
    invoice in review or approved is refused, nothing written."""
    approved = approved_draft(world)
    before = _state(approved)
    with pytest.raises(BillingError, match="is approved; lines are added, edited and removed"):
        services.invoice_line_add(
            invoice=approved,
            description="Extra work",
            unit_price="100",
            actor=world.billing,
            now=world.now,
        )
    with pytest.raises(BillingError, match="is approved; lines are added, edited and removed"):
        services.invoice_line_remove(line=_fee_line(approved), actor=world.billing, now=world.now)
    assert _state(approved) == before
    assert _changes(approved) == 0


def test_issued_lines_are_refused_by_the_service(world: Any) -> None:
    invoice = issued_invoice(world)
    with pytest.raises(InvoiceImmutable):
        services.invoice_line_update(
            line=_fee_line(invoice), actor=world.billing, now=world.now, description="x"
        )


@pytest.mark.parametrize("role", ["ATTORNEY", "PARALEGAL"])
def test_only_those_who_may_add_lines_may_edit_them(world: Any, users: Any, role: str) -> None:
    invoice = _draft(world)
    before = _state(invoice)
    with pytest.raises(NotPermitted):
        services.invoice_line_update(
            line=_fee_line(invoice), actor=users[role], now=world.now, unit_price="1"
        )
    assert _state(invoice) == before
    # a partner may (billing.edit)
    services.invoice_line_update(
        line=_fee_line(invoice), actor=world.partner, now=world.now, unit_price="3,400"
    )
