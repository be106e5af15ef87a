"""Billing test setup, built through the services (so audit events and ledger entries are real).

``billing_world`` gives an H-1B fee schedule: services, government fees, payer rules, rates,
the H-1B filing template and its "prepare filing" trigger, plus a matter with a beneficiary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from caseledger.billing import services
from caseledger.billing.choices import FeeCategory, FeeType, LineKind, Payer, TriggerKind
from caseledger.billing.models import BillingTrigger, InvoiceTemplate, Service
from caseledger.clients.tests.factories import FACTORY_NOW, BeneficiaryFactory, make_company
from caseledger.core import clock
from caseledger.matters.models import CaseType, Matter, Stage
from caseledger.matters.tests.factories import case_type, make_matter

H1B_ATTORNEY_RULE = "20 CFR 655.731(c)(9): H-1B attorney fees are the employer's business expense"
H1B_GOV_RULE = "20 CFR 655.731(c)(9); INA 214(c)(9): required H-1B petition fees are the employer's"
PERM_RULE = "20 CFR 656.12(b): the alien may not pay PERM labor certification costs"


@dataclass
class BillingWorld:
    h1b: CaseType
    perm: CaseType
    prepare_filing: Stage
    h1b_service: Service
    h4_service: Service
    rfe_service: Service
    template: InvoiceTemplate
    h4_template: InvoiceTemplate
    trigger: BillingTrigger
    partner: Any
    attorney: Any
    paralegal: Any
    billing: Any
    matter: Matter
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def new_matter(self, **kwargs: Any) -> Matter:
        kwargs.setdefault("responsible_partner", self.partner)
        kwargs.setdefault("attorney", self.attorney)
        kwargs.setdefault("paralegal", self.paralegal)
        return make_matter(**kwargs)


def build_world(users: dict[str, Any], now: datetime = FACTORY_NOW) -> BillingWorld:
    admin = users["ADMIN"]
    h1b = case_type("h1b_cap")
    perm = case_type("perm")
    prepare_filing = h1b.stages.get(code="prepare_filing")
    h1b_service = services.service_create(
        code="H1B",
        name="H-1B petition",
        fee_type=FeeType.FLAT,
        default_price="3,500.00",
        utbms_task_code="L210",
        utbms_activity_code="A103",
        actor=admin,
        now=now,
    )
    h4_service = services.service_create(
        code="H4",
        name="H-4 dependent application",
        fee_type=FeeType.FLAT,
        default_price="750.00",
        utbms_task_code="L210",
        utbms_activity_code="A103",
        actor=admin,
        now=now,
    )
    rfe_service = services.service_create(
        code="RFE",
        name="RFE response",
        fee_type=FeeType.HOURLY,
        default_price="0",
        utbms_task_code="L250",
        utbms_activity_code="A103",
        actor=admin,
        now=now,
    )
    for code, name, amount, category in (
        ("I129", "USCIS I-129 filing fee", "780.00", FeeCategory.REQUIRED_GOVERNMENT_FEE),
        ("ACWIA", "ACWIA training fee", "1,500.00", FeeCategory.REQUIRED_GOVERNMENT_FEE),
        (
            "FRAUD",
            "Fraud prevention and detection fee",
            "500.00",
            FeeCategory.REQUIRED_GOVERNMENT_FEE,
        ),
        ("PREMIUM", "Premium processing (I-907)", "2,805.00", FeeCategory.OPTIONAL_GOVERNMENT_FEE),
    ):
        services.government_fee_add(
            case_type=h1b,
            code=code,
            name=name,
            amount=amount,
            effective_date=date(2024, 4, 1),
            category=category,
            actor=admin,
            now=now,
        )
    rules: list[tuple[str, bool, str]] = [
        (FeeCategory.ATTORNEY_FEE, False, H1B_ATTORNEY_RULE),
        (FeeCategory.REQUIRED_GOVERNMENT_FEE, False, H1B_GOV_RULE),
        (FeeCategory.OPTIONAL_GOVERNMENT_FEE, True, "Optional premium processing for the employee"),
        (FeeCategory.DEPENDENT_FEE, True, "H-4 dependent fees may be paid by the employee"),
    ]
    for rule_category, may, citation in rules:
        services.payer_rule_set(
            case_type=h1b,
            category=rule_category,
            beneficiary_may_pay=may,
            citation=citation,
            actor=admin,
            now=now,
        )
    for perm_category in FeeCategory.values:
        services.payer_rule_set(
            case_type=perm,
            category=perm_category,
            beneficiary_may_pay=False,
            citation=PERM_RULE,
            actor=admin,
            now=now,
        )
    template = services.template_create(
        service=h1b_service,
        name="H-1B filing",
        lines=[{"description": "H-1B petition: preparation and filing", "amount": None}],
        government_fee_codes=["I129", "ACWIA", "FRAUD"],
        terms="Government fees are paid to USCIS at filing.",
        actor=admin,
        now=now,
    )
    h4_template = services.template_create(
        service=h4_service,
        name="H-4 dependent",
        bill_to=Payer.BENEFICIARY,
        lines=[
            {
                "description": "H-4 dependent application (I-539)",
                "category": FeeCategory.DEPENDENT_FEE,
                "kind": LineKind.FEE,
            }
        ],
        actor=admin,
        now=now,
    )
    trigger = services.trigger_create(
        case_type=h1b,
        template=template,
        kind=TriggerKind.STAGE,
        stage=prepare_filing,
        actor=admin,
        now=now,
    )
    partner, attorney, paralegal = users["PARTNER"], users["ATTORNEY"], users["PARALEGAL"]
    for person, rate in ((partner, "650.00"), (attorney, "425.00"), (paralegal, "175.00")):
        services.hourly_rate_set(timekeeper=person, rate=rate, actor=admin, now=now)
    company = make_company(
        address_line1="500 Howard Street",
        city="San Francisco",
        region="CA",
        postal_code="94105",
        email="ap@northwind.example",
    )
    matter = make_matter(
        client=company,
        beneficiary=BeneficiaryFactory(client=company, email="rahul@mail.example"),
        responsible_partner=partner,
        attorney=attorney,
        paralegal=paralegal,
    )
    return BillingWorld(
        h1b=h1b,
        perm=perm,
        prepare_filing=prepare_filing,
        h1b_service=h1b_service,
        h4_service=h4_service,
        rfe_service=rfe_service,
        template=template,
        h4_template=h4_template,
        trigger=trigger,
        partner=partner,
        attorney=attorney,
        paralegal=paralegal,
        billing=users["BILLING"],
        matter=matter,
        now=now,
    )


def advance_fees(invoice: Any, *, actor: Any, now: datetime) -> list[Any]:
    """Record a firm advance (path a, ADR 011) for every government fee the draft bills that
    has no unbilled advance yet, so the invoice can be issued. Counted over every draft of the
    matter not yet issued, so several drafts issued at once each find their own advances."""
    from caseledger.billing.models import FeeAdvance, InvoiceLine

    advances = []
    for line in invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE, amount_cents__gt=0).order_by(
        "id"
    ):
        free = FeeAdvance.objects.filter(
            matter_id=invoice.matter_id,
            fee_code=line.fee_code,
            amount_cents=line.amount_cents,
            invoice_line__isnull=True,
        ).count()
        wanted = (
            InvoiceLine.objects.filter(
                invoice__matter_id=invoice.matter_id,
                kind=LineKind.GOVERNMENT_FEE,
                fee_code=line.fee_code,
                amount_cents=line.amount_cents,
            )
            .exclude(invoice__status__in=["ISSUED", "VOID"])
            .count()
        )
        if free >= wanted:
            continue
        advances.append(
            services.fee_advance_record(
                matter=invoice.matter,
                fee_code=line.fee_code or "MANUAL",
                amount=f"{line.amount_cents // 100}.{line.amount_cents % 100:02d}",
                paid_date=clock.firm_date(now),
                method="CHECK",
                actor=actor,
                now=now,
            )
        )
    return advances


def approved_draft(
    world: BillingWorld, *, matter: Matter | None = None, now: datetime | None = None
) -> Any:
    """A draft from the H-1B template, submitted and approved by the partner."""
    now = now or world.now
    invoice = services.invoice_draft_create(
        matter=matter or world.matter, actor=world.billing, now=now, template=world.template
    )
    advance_fees(invoice, actor=world.billing, now=now)
    services.invoice_submit(invoice=invoice, actor=world.billing, now=now)
    return services.invoice_approve(invoice=invoice, actor=world.partner, now=now)


def issued_invoice(world: BillingWorld, **kwargs: Any) -> Any:
    invoice = approved_draft(world, **kwargs)
    return services.invoice_issue(
        invoice=invoice, actor=world.billing, now=kwargs.get("now") or world.now
    )
