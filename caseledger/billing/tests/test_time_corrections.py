"""Correcting unbilled time and expenses from their page: edit or delete while unbilled (an
audit event each), refused once billed with a message naming the invoice; the time page's
forms through core.forms.handle_form (errors under fields, a double submit recorded once)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import Expense, TimeEntry
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 30)


def _time(world: Any, hours: str = "1.0") -> TimeEntry:
    return services.time_entry_create(
        timekeeper=world.attorney,
        matter=world.matter,
        work_date=DAY,
        hours=hours,
        activity_code="A103",
        narrative="Draft petition letter",
        actor=world.attorney,
        now=world.now,
    )


def _expense(world: Any) -> Expense:
    return services.expense_create(
        matter=world.matter,
        kind="EXPENSE",
        expense_date=DAY,
        description="Courier",
        amount="45.00",
        actor=world.attorney,
        now=world.now,
    )


def _bill(world: Any) -> Any:
    return services.invoice_draft_create(
        matter=world.matter, actor=world.partner, now=world.now, include_unbilled=True
    )


def test_unbilled_time_is_corrected_and_audited(world: Any) -> None:
    entry = _time(world)
    row = services.time_entry_update(
        entry=entry,
        work_date=DAY,
        hours="2.5",
        activity_code="a104",
        narrative="Reviewed the RFE",
        billable=False,
        actor=world.attorney,
        now=world.now,
    )
    assert (row.minutes, row.activity_code, row.billable) == (150, "A104", False)
    assert row.amount_cents == row.rate_cents * 150 // 60
    event = AuditEvent.objects.get(action="billing.time_updated")
    assert event.before["minutes"] == 60
    assert event.after["minutes"] == 150
    services.time_entry_delete(entry=row, actor=world.attorney, now=world.now)
    assert not TimeEntry.objects.exists()
    assert AuditEvent.objects.filter(action="billing.time_deleted").count() == 1


def test_billed_time_and_expenses_refuse_naming_the_invoice(world: Any) -> None:
    entry = _time(world)
    expense = _expense(world)
    invoice = _bill(world)
    with pytest.raises(BillingError) as exc:
        services.time_entry_delete(entry=entry, actor=world.attorney, now=world.now)
    assert exc.value.message == (
        f"time entry: already billed on invoice {invoice}; it can no longer change"
    )
    with pytest.raises(BillingError) as exc:
        services.expense_update(
            expense=expense,
            kind="EXPENSE",
            expense_date=DAY,
            description="Courier",
            amount="50.00",
            expense_code="E101",
            billable=True,
            actor=world.attorney,
            now=world.now,
        )
    assert exc.value.message == (
        f"expense: already billed on invoice {invoice}; it can no longer change"
    )
    assert Expense.objects.get().amount_cents == 4_500


def test_expense_edit_and_delete(world: Any) -> None:
    expense = _expense(world)
    row = services.expense_update(
        expense=expense,
        kind="COST_ADVANCE",
        expense_date=DAY,
        description="USCIS filing fee",
        amount="460.00",
        expense_code="e123",
        billable=True,
        actor=world.attorney,
        now=world.now,
    )
    assert (row.kind, row.amount_cents, row.expense_code) == ("COST_ADVANCE", 46_000, "E123")
    assert AuditEvent.objects.filter(action="billing.expense_updated").count() == 1
    services.expense_delete(expense=row, actor=world.attorney, now=world.now)
    assert AuditEvent.objects.filter(action="billing.expense_deleted").count() == 1
    assert not Expense.objects.exists()


def test_edit_page_shows_errors_under_fields_and_keeps_input(world: Any, login: Any) -> None:
    entry = _time(world)
    web = login(world.attorney)
    url = reverse("billing:time_entry_edit", args=[entry.pk])
    assert web.get(url).status_code == 200
    html = web.post(
        url,
        {"work_date": "2026-10-30", "hours": "1", "activity_code": "X1", "narrative": "Kept"},
    ).content.decode()
    assert "activity_code:" not in html
    assert "<li>must be a UTBMS activity code such as A103" in html
    assert "Kept</textarea>" in html
    response = web.post(reverse("billing:time_entry_delete", args=[entry.pk]))
    assert response.status_code == 302
    assert not TimeEntry.objects.exists()


def test_someone_elses_time_needs_billing_edit(world: Any, login: Any) -> None:
    entry = _time(world)
    web = login(world.paralegal)
    assert web.get(reverse("billing:time_entry_edit", args=[entry.pk])).status_code == 403


def test_double_submitted_expense_is_recorded_once(world: Any, login: Any) -> None:
    web = login(world.attorney)
    page = web.get(reverse("billing:time_entry_new")).content.decode()
    tokens = re.findall(r'name="form_token" value="([^"]+)"', page)
    assert len(set(tokens)) == 2  # one per form on the page
    data = {
        "form_token": tokens[1],
        "matter": world.matter.pk,
        "kind": "EXPENSE",
        "expense_date": "2026-10-30",
        "description": "Courier",
        "amount": "45.00",
        "expense_code": "E101",
        "billable": "on",
    }
    assert web.post(reverse("billing:expense_new"), data).status_code == 302
    again = web.post(reverse("billing:expense_new"), data)
    assert again.status_code == 200
    assert "already submitted" in again.content.decode()
    assert Expense.objects.count() == 1
