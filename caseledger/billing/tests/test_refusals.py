"""Every refusal of the billing services that no other test triggered: each is raised with the
message naming the field and the rule, and a refused call leaves the fee schedule, templates,
triggers, settings, time, expenses, invoices, fee advances, journal entries and audit events as
they were (``scripts/refusal_coverage.py --list`` lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from caseledger.billing import services
from caseledger.billing.choices import Cadence, FeeCategory, FeeType, LineKind, Payer, TriggerKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import (
    BillingSettings,
    BillingTrigger,
    Expense,
    FeeAdvance,
    GovernmentFee,
    HourlyRate,
    Invoice,
    InvoiceLine,
    InvoiceTemplate,
    MatterFeePath,
    Service,
    TemplateLine,
    TimeEntry,
)
from caseledger.billing.selectors import billing_settings_get
from caseledger.billing.services.payment_links import payment_link_resolve, payment_link_token
from caseledger.core.models import AuditEvent
from caseledger.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 30)
MODELS = (
    BillingSettings,
    BillingTrigger,
    Expense,
    FeeAdvance,
    GovernmentFee,
    HourlyRate,
    Invoice,
    InvoiceLine,
    InvoiceTemplate,
    MatterFeePath,
    Service,
    TemplateLine,
    TimeEntry,
)


def _state() -> dict[str, Any]:
    state: dict[str, Any] = {
        model.__name__: list(model.objects.values().order_by("pk")) for model in MODELS
    }
    state["entries"] = JournalEntry.objects.count()
    state["audit"] = AuditEvent.objects.count()
    return state


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises BillingError whose whole message
    is ``match`` (literal text) and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(BillingError, match=f"^{re.escape(match)}$"):
            call(**kwargs)
        assert _state() == before

    return check


def _choices(values: list[str]) -> str:
    return ", ".join(values)


# --- fee schedule: services, rates, templates, triggers, settings ----------------------------


def test_service_create_refuses_each_bad_input_naming_its_field(world, refused):
    args = {
        "code": "CONSULT",
        "name": "Consultation",
        "fee_type": FeeType.FLAT,
        "default_price": "250.00",
        "actor": world.partner,
        "now": world.now,
    }
    refused(
        services.service_create,
        match="code: use capital letters, digits, '-' or '_' (got 'CONSULT NOW')",
        **{**args, "code": "consult now"},
    )
    refused(services.service_create, match="name: is required", **{**args, "name": "  "})
    refused(
        services.service_create,
        match=f"fee_type: must be one of {_choices(FeeType.values)} (got 'DAILY')",
        **{**args, "fee_type": "DAILY"},
    )
    refused(
        services.service_create,
        match="code: a service with code H1B already exists",
        **{**args, "code": "h1b"},
    )


def test_government_fee_add_refuses_a_malformed_code(world, refused):
    refused(
        services.government_fee_add,
        match="code: use capital letters, digits, '-' or '_' (got 'I 129')",
        case_type=world.h1b,
        code="i 129",
        name="Filing fee",
        amount="780.00",
        effective_date=date(2026, 1, 1),
        actor=world.partner,
        now=world.now,
    )


def test_hourly_rate_set_refuses_a_client_and_a_matter_at_once_or_a_zero_rate(world, refused):
    args = {"timekeeper": world.attorney, "actor": world.partner, "now": world.now}
    refused(
        services.hourly_rate_set,
        match="client: a rate applies to a client or to a matter, not both",
        client=world.matter.client,
        matter=world.matter,
        rate="400",
        **args,
    )
    refused(
        services.hourly_rate_set,
        match="rate: must be more than zero (got $0.00)",
        rate="0",
        **args,
    )


def test_template_create_refuses_each_bad_input_naming_its_field(world, refused):
    args: dict[str, Any] = {
        "service": world.h1b_service,
        "name": "H-1B extension",
        "lines": [{"description": "Extension petition", "amount": None}],
        "actor": world.partner,
        "now": world.now,
    }
    refused(services.template_create, match="name: is required", **{**args, "name": " "})
    refused(
        services.template_create,
        match="name: a template named 'H-1B filing' already exists",
        **{**args, "name": "H-1B filing"},
    )
    refused(
        services.template_create,
        match=f"bill_to: must be one of {_choices(Payer.values)} (got 'EMPLOYER')",
        **{**args, "bill_to": "EMPLOYER"},
    )
    refused(
        services.template_create,
        match="installments: must be between 1 and 60 (got 61)",
        **{**args, "installments": 61},
    )
    refused(
        services.template_create,
        match="payment_terms_days: must be between 0 and 365 days (got 366)",
        **{**args, "payment_terms_days": 366},
    )
    refused(
        services.template_create,
        match=(
            "government_fee_codes: 'I 129' is not a fee code (capital letters, digits, '-' or '_')"
        ),
        **{**args, "government_fee_codes": ["i 129"]},
    )
    refused(
        services.template_create,
        match="line 2 description: is required",
        **{**args, "lines": [{"description": "Petition"}, {"description": " "}]},
    )
    refused(
        services.template_create,
        match=f"line 1 kind: must be one of {_choices(LineKind.values)} (got 'BONUS')",
        **{**args, "lines": [{"description": "Petition", "kind": "BONUS"}]},
    )
    refused(
        services.template_create,
        match=f"line 1 category: must be one of {_choices(FeeCategory.values)} (got 'TIP')",
        **{**args, "lines": [{"description": "Petition", "category": "TIP"}]},
    )


def test_trigger_create_refuses_a_missing_stage_or_cadence_and_a_duplicate(world, refused):
    args = {
        "case_type": world.h1b,
        "template": world.template,
        "actor": world.partner,
        "now": world.now,
    }
    refused(
        services.trigger_create,
        match="stage: a stage trigger needs a stage",
        kind=TriggerKind.STAGE,
        **args,
    )
    refused(
        services.trigger_create,
        match=f"cadence: a cadence trigger needs one of {_choices(Cadence.values)}",
        kind=TriggerKind.CADENCE,
        cadence="WEEKLY",
        **args,
    )
    refused(
        services.trigger_create,
        match=(
            f"stage: case type {world.h1b.name} already has an active trigger for "
            f"{world.prepare_filing.name} → {world.template.name}"
        ),
        kind=TriggerKind.STAGE,
        stage=world.prepare_filing,
        **args,
    )


def test_billing_settings_update_refuses_a_tax_rate_out_of_range(world, refused):
    refused(
        services.billing_settings_update,
        match="tax_rate_bp: must be between 0 and 10000 basis points (got 10001)",
        tax_rate_bp=10_001,
        actor=world.partner,
        now=world.now,
    )


# --- time and expenses -----------------------------------------------------------------------


def _time_args(world: Any, **kw: Any) -> dict[str, Any]:
    args = {
        "work_date": DAY,
        "hours": "1.0",
        "activity_code": "A103",
        "narrative": "Draft petition letter",
        "actor": world.attorney,
        "now": world.now,
    }
    return {**args, **kw}


def _expense_args(world: Any, **kw: Any) -> dict[str, Any]:
    args = {
        "kind": "EXPENSE",
        "expense_date": DAY,
        "description": "Courier",
        "amount": "25.00",
        "actor": world.billing,
        "now": world.now,
    }
    return {**args, **kw}


def test_time_entries_need_a_narrative(world, refused):
    refused(
        services.time_entry_create,
        match="narrative: describe the work done",
        **_time_args(world, timekeeper=world.attorney, matter=world.matter, narrative="  "),
    )
    entry = services.time_entry_create(
        **_time_args(world, timekeeper=world.attorney, matter=world.matter)
    )
    refused(
        services.time_entry_update,
        match="narrative: describe the work done",
        **_time_args(world, entry=entry, billable=True, narrative=""),
    )


def test_expenses_need_a_known_kind_and_a_description(world, refused):
    refused(
        services.expense_create,
        match="kind: must be EXPENSE or COST_ADVANCE (got 'GIFT')",
        **_expense_args(world, matter=world.matter, kind="GIFT"),
    )
    refused(
        services.expense_create,
        match="description: is required",
        **_expense_args(world, matter=world.matter, description=" "),
    )
    expense = services.expense_create(**_expense_args(world, matter=world.matter))
    update = {"expense": expense, "expense_code": "E101", "billable": True}
    refused(
        services.expense_update,
        match="kind: must be EXPENSE or COST_ADVANCE (got 'GIFT')",
        **_expense_args(world, kind="GIFT", **update),
    )
    refused(
        services.expense_update,
        match="description: is required",
        **_expense_args(world, description="", **update),
    )


# --- invoices --------------------------------------------------------------------------------


def test_invoice_draft_create_refuses_a_beneficiary_the_matter_lacks(world, refused):
    matter = world.new_matter(client=world.matter.client, case_type_code="consultation")
    refused(
        services.invoice_draft_create,
        match=f"bill_to: matter {matter.number} has no beneficiary to bill",
        matter=matter,
        bill_to=Payer.BENEFICIARY,
        actor=world.billing,
        now=world.now,
    )


def test_invoice_draft_create_refuses_a_template_fee_the_case_type_lacks(world, refused):
    template = services.template_create(
        service=world.h1b_service,
        name="H-1B with a made-up fee",
        lines=[{"description": "Petition", "amount": None}],
        government_fee_codes=["NOFEE"],
        actor=world.partner,
        now=world.now,
    )
    refused(
        services.invoice_draft_create,
        match=(
            f"template: case type {world.h1b.name} has no NOFEE fee in force on {world.now.date()}"
        ),
        matter=world.matter,
        template=template,
        actor=world.billing,
        now=world.now,
    )


def test_invoice_lines_refuse_a_bad_kind_category_or_description(world, refused):
    invoice = services.invoice_draft_create(matter=world.matter, actor=world.billing, now=world.now)
    args = {
        "invoice": invoice,
        "description": "Consultation",
        "unit_price": "100.00",
        "actor": world.billing,
        "now": world.now,
    }
    refused(
        services.invoice_line_add,
        match=f"kind: must be one of {_choices(LineKind.values)} (got 'BONUS')",
        kind="BONUS",
        **args,
    )
    refused(
        services.invoice_line_add,
        match=f"category: must be one of {_choices(FeeCategory.values)} (got 'TIP')",
        category="TIP",
        **args,
    )
    refused(
        services.invoice_line_add, match="description: is required", **{**args, "description": " "}
    )
    refused(
        services.invoice_line_add,
        match="quantity: must be at most 1,000,000 (got '1000001')",
        quantity="1000001",
        **args,
    )
    line = services.invoice_line_add(**args)
    refused(
        services.invoice_line_update,
        match="description: is required",
        line=line,
        description="",
        actor=world.billing,
        now=world.now,
    )


def test_an_invoice_without_lines_is_not_submitted(world, refused):
    invoice = services.invoice_draft_create(matter=world.matter, actor=world.billing, now=world.now)
    refused(
        services.invoice_submit,
        match="invoice: has no lines; add a line before submitting or issuing",
        invoice=invoice,
        actor=world.billing,
        now=world.now,
    )


def test_an_expired_payment_link_is_refused(world, refused):
    days = billing_settings_get().payment_link_days
    invoice = services.invoice_draft_create(matter=world.matter, actor=world.billing, now=world.now)
    token = payment_link_token(
        invoice=invoice, at=datetime.now(UTC) - timedelta(days=days, hours=1)
    )
    refused(
        payment_link_resolve,
        match="link: this payment link has expired; ask the firm for a new one",
        token=token,
    )


# --- government fees (ADR 011) ---------------------------------------------------------------


def _advance_args(world: Any, **kw: Any) -> dict[str, Any]:
    args = {
        "matter": world.matter,
        "fee_code": "I129",
        "amount": "780.00",
        "paid_date": DAY,
        "method": "CHECK",
        "actor": world.billing,
        "now": world.now,
    }
    return {**args, **kw}


def _approved_draft(world: Any) -> Invoice:
    """A draft from the H-1B template (I-129, ACWIA and fraud fees, advanced by the firm),
    submitted and approved, with no fee advance recorded."""
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    return services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)


def _i129_paid_from_trust(world: Any) -> Any:
    """A filing-fee disbursement from the matter's trust paying its I-129 fee (requested)."""
    from caseledger.trust import services as trust

    matter = world.matter
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W1",
        amount_cents=100_000,
        received_date=DAY,
        actor=None,
        now=world.now,
    )
    return trust.disbursement_request(
        matter=matter,
        payee="U.S. Department of Homeland Security",
        amount_cents=78_000,
        purpose="FILING_FEE",
        method="CHECK",
        fee_code="I129",
        actor=world.billing,
        now=world.now,
    )


def test_fee_path_and_advance_inputs_are_checked(world, refused):
    from caseledger.billing.choices import FeeAdvanceMethod, FeePath

    refused(
        services.matter_fee_path_set,
        match=f"fee_path: must be one of {_choices(FeePath.values)} (got 'BARTER')",
        matter=world.matter,
        fee_path="BARTER",
        actor=world.billing,
        now=world.now,
    )
    refused(
        services.fee_advance_record,
        match="fee_code: choose the government fee (e.g. I129, ACWIA)",
        **_advance_args(world, fee_code="  "),
    )
    refused(
        services.fee_advance_record,
        match=f"method: must be one of {_choices(FeeAdvanceMethod.values)} (got 'CASH')",
        **_advance_args(world, method="CASH"),
    )


def test_a_fee_paid_from_trust_is_neither_advanced_nor_billed_again(world, refused):
    disbursement = _i129_paid_from_trust(world)
    paid = f"disbursement {disbursement.number}, awaiting approval"
    refused(
        services.fee_advance_record,
        match=(
            f"fee_code: the I129 fee of matter {world.matter.number} was paid from trust "
            f"({paid}); it is not billed or advanced again"
        ),
        **_advance_args(world),
    )
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    line = invoice.lines.get(fee_code="I129")
    refused(
        services.invoice_line_fee_path_set,
        match=(
            f"fee_code: the I129 fee of matter {world.matter.number} was paid from trust "
            f"({paid}); it is not billed or advanced again"
        ),
        line=line,
        fee_path="FIRM_ADVANCE",
        actor=world.billing,
        now=world.now,
    )


def test_only_a_government_fee_line_has_a_fee_path(world, refused):
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    line = invoice.lines.get(kind=LineKind.FEE)
    refused(
        services.invoice_line_fee_path_set,
        match=f"line: {line.description!r} is not a government fee line with a fee code",
        line=line,
        fee_path="CLIENT_DIRECT",
        actor=world.billing,
        now=world.now,
    )


def test_invoice_filing_date_set_refuses_a_bad_method_or_a_date_with_no_fee(world, refused):
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    args = {"invoice": invoice, "actor": world.billing, "now": world.now}
    refused(
        services.invoice_filing_date_set,
        match="filing_method: must be one of PAPER, ONLINE (got 'ANY')",
        filing_date=DAY,
        filing_method="ANY",
        **args,
    )
    refused(
        services.invoice_filing_date_set,
        match=f"filing_date: case type {world.h1b.name} has no I129 fee in force on 2024-01-01",
        filing_date=date(2024, 1, 1),
        **args,
    )


def test_issue_refuses_a_fee_line_the_firm_has_not_advanced(world, refused):
    invoice = _approved_draft(world)
    refused(
        services.invoice_issue,
        match=(
            "invoice: line 'USCIS I-129 filing fee' bills a $780.00 I129 fee the firm has not "
            "advanced; record the fee advance (Government fees page) before issuing, or mark "
            "the line paid from trust or paid by the client directly"
        ),
        invoice=invoice,
        actor=world.billing,
        now=world.now,
    )


def test_issue_refuses_a_fee_line_whose_advance_differs(world, refused):
    invoice = _approved_draft(world)
    advance = services.fee_advance_record(**_advance_args(world, amount="700.00"))
    refused(
        services.invoice_issue,
        match=(
            f"invoice: line 'USCIS I-129 filing fee' bills $780.00 but the unbilled I129 advance "
            f"{advance} is $700.00; correct the line or the advance"
        ),
        invoice=invoice,
        actor=world.billing,
        now=world.now,
    )


def test_issue_refuses_a_fee_line_paid_from_trust_since_the_draft(world, refused):
    invoice = _approved_draft(world)
    disbursement = _i129_paid_from_trust(world)
    refused(
        services.invoice_issue,
        match=(
            "invoice: line 'USCIS I-129 filing fee' bills the I129 fee, which was paid from "
            f"trust (disbursement {disbursement.number}, awaiting approval); mark the line "
            "paid from trust"
        ),
        invoice=invoice,
        actor=world.billing,
        now=world.now,
    )
