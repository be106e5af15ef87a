"""Recurring billing: once per (schedule, period); a rerun creates nothing."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from caseledger.billing import services
from caseledger.billing.choices import Cadence, InvoiceStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    RecurringSchedule,
    ScheduleRun,
)
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


def test_run_writes_every_column_of_its_drafts(world: Any) -> None:
    """Every column the run writes, over monthly, quarterly and plan schedules, a matter without
    a responsible partner (the client's is billed), a template without terms (the firm's), and
    the skips (payer rule, finished plan); then the run's one audit event."""
    from caseledger.clients.tests.factories import make_company
    from caseledger.core.models import AuditEvent

    retainer = services.template_create(
        service=world.h1b_service,
        name="Monthly compliance retainer",
        lines=[
            {"description": "Immigration compliance retainer", "amount": None},
            {
                "description": "Dependent file upkeep",
                "amount": "150.00",
                "category": "DEPENDENT_FEE",
                "service": world.h4_service,
            },
        ],
        notes="Thank you.",
        actor=world.partner,
        now=world.now,
    )
    no_partner = world.new_matter(
        client=make_company(responsible_partner=world.partner),
        case_type_code="consultation",
        responsible_partner=None,
    )
    perm = world.new_matter(case_type_code="perm")

    def schedule(matter: Any, template: Any, cadence: str, start: date, **kw: Any) -> Any:
        return services.schedule_create(
            matter=matter,
            template=template,
            cadence=cadence,
            start_date=start,
            actor=world.partner,
            now=world.now,
            **kw,
        )

    monthly = schedule(world.matter, retainer, Cadence.MONTHLY, date(2026, 1, 1))
    quarterly = schedule(no_partner, world.template, Cadence.QUARTERLY, date(2026, 2, 15))
    refused_plan = schedule(
        world.matter, world.h4_template, Cadence.PAYMENT_PLAN, date(2026, 4, 1), installments=3
    )
    plan = schedule(
        world.matter,
        world.template,
        Cadence.PAYMENT_PLAN,
        date(2026, 4, 10),
        installments=3,
        total="1,000.00",
    )
    finished = schedule(
        no_partner, retainer, Cadence.PAYMENT_PLAN, date(2026, 1, 1), installments=2
    )
    dependent = schedule(world.matter, world.h4_template, Cadence.MONTHLY, date(2026, 5, 1))
    schedule(perm, world.h4_template, Cadence.MONTHLY, date(2026, 5, 1))
    perm_refused = RecurringSchedule.objects.get(matter=perm)
    schedule(perm, retainer, Cadence.MONTHLY, date(2026, 6, 1))  # not started on the run date

    result = services.billing_run(run_date=date(2026, 5, 31), now=world.now)

    assert (result.created, result.already_billed) == (4, 0)
    assert result.skipped == {
        refused_plan.pk: "payer rule forbids billing the beneficiary",
        finished.pk: "plan finished",
        perm_refused.pk: "payer rule forbids billing the beneficiary",
    }
    invoices = list(Invoice.objects.order_by("id").values())
    firm_terms = BillingSettings.objects.get().default_terms
    common = {
        "status": "IN_REVIEW",
        "number": None,
        "currency": "USD",
        "issue_date": None,
        "due_date": None,
        "created_at": world.now,
        "created_by_id": None,
        "tax_cents": 0,
        "bill_to_name": "",
        "bill_to_address": "",
        "bill_to_email": "",
        "review_comment": "",
        "triggered_at": world.now,
        "approved_at": None,
        "approved_by_id": None,
        "issued_at": None,
        "issued_by_id": None,
        "issue_entry_id": None,
        "filing_date": None,
        "filing_method": "PAPER",
        "voided_at": None,
        "void_reason": "",
        "void_entry_id": None,
    }
    expected = [
        (world.matter, "PETITIONER", retainer, 365_000, firm_terms, "Thank you."),
        (no_partner, "PETITIONER", world.template, 350_000, world.template.terms, ""),
        (world.matter, "PETITIONER", world.template, 33_333, world.template.terms, ""),
        (world.matter, "BENEFICIARY", world.h4_template, 75_000, firm_terms, ""),
    ]
    assert [{k: v for k, v in inv.items() if k != "id"} for inv in invoices] == [
        {
            **common,
            "client_id": matter.client_id,
            "matter_id": matter.pk,
            "bill_to": bill_to,
            "responsible_partner_id": world.partner.pk,
            "template_id": template.pk,
            "subtotal_cents": total,
            "total_cents": total,
            "terms": terms,
            "notes": notes,
        }
        for matter, bill_to, template, total, terms, notes in expected
    ]
    ids = [inv["id"] for inv in invoices]
    line_common = {
        "government_fee_id": None,
        "timekeeper_id": None,
        "quantity": Decimal("1.00"),
        "taxable": False,
        "tax_cents": 0,
        "utbms_expense_code": "",
        "fee_code": "",
        "fee_path": "",
        "fee_amount_cents": 0,
        "fee_note": "",
    }

    def line(n: int, position: int, kind: str, category: str, service: Any, text: str) -> Any:
        # (invoice, position, kind, category, line service, description); the codes are the
        # template service's, the amount the template line's (else the service's price).
        return (ids[n], position, kind, category, service.pk, text)

    may, april = date(2026, 5, 1), date(2026, 4, 1)
    h1b, h4 = world.h1b_service, world.h4_service
    expected_lines = [
        (
            line(0, 1, "FEE", "ATTORNEY_FEE", h1b, "Immigration compliance retainer — May 2026"),
            may,
            350_000,
            h1b,
        ),
        (
            line(0, 2, "FEE", "DEPENDENT_FEE", h4, "Dependent file upkeep — May 2026"),
            may,
            15_000,
            h1b,
        ),
        (
            line(
                1, 1, "FEE", "ATTORNEY_FEE", h1b, "H-1B petition: preparation and filing — Q2 2026"
            ),
            april,
            350_000,
            h1b,
        ),
        (
            line(2, 1, "INSTALLMENT", "ATTORNEY_FEE", h1b, "H-1B filing: installment 2 of 3"),
            may,
            33_333,
            h1b,
        ),
        (
            line(3, 1, "FEE", "DEPENDENT_FEE", h4, "H-4 dependent application (I-539) — May 2026"),
            may,
            75_000,
            h4,
        ),
    ]
    keys = ("invoice_id", "position", "kind", "category", "service_id", "description")
    assert [
        {k: v for k, v in row.items() if k != "id"}
        for row in InvoiceLine.objects.order_by("invoice_id", "position").values()
    ] == [
        {
            **line_common,
            **dict(zip(keys, head, strict=True)),
            "line_date": line_date,
            "unit_price_cents": amount,
            "amount_cents": amount,
            "utbms_task_code": codes.utbms_task_code,
            "utbms_activity_code": codes.utbms_activity_code,
        }
        for head, line_date, amount, codes in expected_lines
    ]
    assert list(
        ScheduleRun.objects.order_by("id").values_list(
            "schedule_id", "period_start", "sequence", "invoice_id", "run_at"
        )
    ) == [
        (monthly.pk, date(2026, 5, 1), 5, ids[0], world.now),
        (quarterly.pk, date(2026, 4, 1), 2, ids[1], world.now),
        (plan.pk, date(2026, 5, 1), 2, ids[2], world.now),
        (dependent.pk, date(2026, 5, 1), 1, ids[3], world.now),
    ]
    event = AuditEvent.objects.filter(action="billing.recurring_run").get()
    assert (event.actor_id, event.actor_label, event.at) == (None, "billing scheduler", world.now)
    assert event.after == {
        "run_date": "2026-05-31",
        "created": 4,
        "already_billed": 0,
        "skipped": 3,
    }
    again = services.billing_run(run_date=date(2026, 5, 1), now=world.now)
    assert (again.created, again.already_billed, len(again.skipped)) == (0, 4, 3)
    assert Invoice.objects.count() == 4
