"""Recurring billing: once per (schedule, period); a rerun creates nothing."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from caseledger.billing import services
from caseledger.billing.choices import Cadence, InvoiceStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import Invoice, ScheduleRun
from caseledger.billing.services.recurring import period_for

pytestmark = pytest.mark.django_db


def _retainer_template(world: Any) -> Any:
    return services.template_create(
        service=world.h1b_service,
        name="Monthly compliance retainer",
        lines=[{"description": "Immigration compliance retainer", "amount": "1,250.00"}],
        actor=world.partner,
        now=world.now,
    )


def test_period_for() -> None:
    start = date(2026, 1, 15)
    assert period_for(cadence=Cadence.MONTHLY, start=start, run_date=date(2026, 3, 31)) == (
        date(2026, 3, 1),
        3,
    )
    assert period_for(cadence=Cadence.QUARTERLY, start=start, run_date=date(2026, 5, 2)) == (
        date(2026, 4, 1),
        2,
    )
    assert period_for(cadence=Cadence.MONTHLY, start=start, run_date=date(2026, 1, 1)) is None


def test_monthly_schedule_bills_once_per_month(world: Any) -> None:
    schedule = services.schedule_create(
        matter=world.matter,
        template=_retainer_template(world),
        cadence=Cadence.MONTHLY,
        start_date=date(2026, 9, 1),
        actor=world.partner,
        now=world.now,
    )
    first = services.billing_run(run_date=date(2026, 11, 30), now=world.now)
    assert first.created == 1
    again = services.billing_run(run_date=date(2026, 11, 2), now=world.now)
    assert (again.created, again.already_billed) == (0, 1)
    invoice = Invoice.objects.get()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert invoice.total_cents == 125_000
    assert invoice.lines.get().description == "Immigration compliance retainer — November 2026"
    assert ScheduleRun.objects.get().schedule == schedule
    december = services.billing_run(run_date=date(2026, 12, 31), now=world.now)
    assert december.created == 1
    assert Invoice.objects.count() == 2


def test_payment_plan_splits_the_total_without_losing_a_cent(world: Any) -> None:
    services.schedule_create(
        matter=world.matter,
        template=world.template,
        cadence=Cadence.PAYMENT_PLAN,
        installments=3,
        total="1,000.00",
        start_date=date(2026, 1, 10),
        actor=world.partner,
        now=world.now,
    )
    for month in (1, 2, 3, 4):
        services.billing_run(run_date=date(2026, month, 28), now=world.now)
    amounts = list(Invoice.objects.order_by("id").values_list("total_cents", flat=True))
    assert amounts == [33_334, 33_333, 33_333]
    descriptions = [inv.lines.get().description for inv in Invoice.objects.order_by("id")]
    assert descriptions[-1] == "H-1B filing: installment 3 of 3"


def test_schedule_input_errors(world: Any) -> None:
    with pytest.raises(BillingError) as exc:
        services.schedule_create(
            matter=world.matter,
            template=world.template,
            cadence=Cadence.PAYMENT_PLAN,
            installments=1,
            start_date=date(2026, 1, 1),
            actor=world.partner,
            now=world.now,
        )
    assert exc.value.message == "installments: a payment plan needs 2 to 60 installments (got 1)"
    with pytest.raises(BillingError) as exc2:
        services.schedule_create(
            matter=world.matter,
            template=world.template,
            cadence="WEEKLY",
            start_date=date(2026, 1, 1),
            actor=world.partner,
            now=world.now,
        )
    assert exc2.value.message == (
        "cadence: must be one of MONTHLY, QUARTERLY, PAYMENT_PLAN (got 'WEEKLY')"
    )


def test_run_billing_command_and_its_rerun(world: Any) -> None:
    services.schedule_create(
        matter=world.matter,
        template=_retainer_template(world),
        cadence=Cadence.QUARTERLY,
        start_date=date(2026, 1, 1),
        actor=world.partner,
        now=world.now,
    )
    out = StringIO()
    call_command("run_billing", "--date", "2026-10-01", stdout=out)
    assert json.loads(out.getvalue()) == {
        "run_date": "2026-10-01",
        "created": 1,
        "already_billed": 0,
        "skipped": 0,
    }
    out = StringIO()
    call_command("run_billing", "--date", "2026-12-31", stdout=out)
    assert json.loads(out.getvalue())["created"] == 0
    with pytest.raises(CommandError) as exc:
        call_command("run_billing", "--date", "31/12/2026")
    assert str(exc.value) == "--date: must be a date YYYY-MM-DD (got '31/12/2026')"
