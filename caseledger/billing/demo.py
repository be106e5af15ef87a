"""Demo billing: the fee schedule, payer rules, templates and triggers for the seeded case types,
rates, 18 months of invoices drafted by the trigger engine at each matter's real milestone time and
then approved and issued (so the ledger, the audit log and the turnaround KPI have history),
drafts waiting in the review queue, unbilled time (WIP), and recurring schedules.

Everything goes through the services. Idempotent: the catalog is keyed by service code, the
history by "no invoice exists yet". Takes a few seconds.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.test import override_settings

from caseledger.billing import services
from caseledger.billing.choices import (
    Cadence,
    FeeCategory,
    FeePath,
    FeeType,
    InvoiceStatus,
    LineKind,
    Payer,
    TriggerKind,
)
from caseledger.billing.fees import fee_schedule_load
from caseledger.billing.models import (
    BillingTrigger,
    FeeAdvance,
    Invoice,
    InvoiceTemplate,
    RecurringSchedule,
    Service,
)
from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
from caseledger.core import clock, outbox
from caseledger.core.demo_context import DemoContext

# code, name, fee type, price, UTBMS task, UTBMS activity
SERVICES = [
    ("CONSULT", "Consultation", FeeType.FLAT, "250.00", "L110", "A106"),
    ("H1B", "H-1B petition", FeeType.FLAT, "3,500.00", "L210", "A103"),
    ("H4", "H-4 dependent application", FeeType.FLAT, "750.00", "L210", "A103"),
    ("PERM", "PERM labor certification", FeeType.INSTALLMENTS, "6,000.00", "L210", "A103"),
    ("I140", "I-140 immigrant petition", FeeType.FLAT, "2,500.00", "L210", "A103"),
    ("I130", "I-130 family petition", FeeType.FLAT, "1,800.00", "L210", "A103"),
    ("I485", "I-485 adjustment of status", FeeType.FLAT, "2,200.00", "L210", "A103"),
    ("N400", "N-400 naturalization", FeeType.FLAT, "1,200.00", "L210", "A103"),
    ("K1", "K-1 fiancé(e) petition", FeeType.FLAT, "2,000.00", "L210", "A103"),
    ("ASYLUM", "Asylum application (I-589)", FeeType.FLAT, "4,500.00", "L210", "A103"),
    ("REMOVAL", "Removal defense", FeeType.HOURLY, "0", "L230", "A109"),
    ("RFE", "RFE / NOID response", FeeType.HOURLY, "750.00", "L250", "A103"),
    ("APPEAL", "AAO / BIA appeal", FeeType.FLAT, "5,000.00", "L520", "A103"),
    (
        "RETAINER",
        "Corporate immigration compliance retainer",
        FeeType.FLAT,
        "1,250.00",
        "L120",
        "A106",
    ),
]

H1B_TYPES = ("h1b_cap", "h1b_extension", "h1b_transfer")
# Days since the demo clients of trust-paid fee matters began depositing their filing fees.
TRUST_FEES_SINCE_DAYS = 30
REQUIRED = FeeCategory.REQUIRED_GOVERNMENT_FEE
OPTIONAL = FeeCategory.OPTIONAL_GOVERNMENT_FEE
# The government fee schedule itself ships with billing (billing.fees.FEE_SCHEDULE, each row
# citing its rule); the demo loads it.

H1B_RULE = (
    "20 CFR 655.731(c)(9): H-1B attorney fees and petition costs are the employer's "
    "business expense"
)
ACWIA_RULE = (
    "INA 214(c)(9); 20 CFR 655.731(c)(10)(ii): the ACWIA fee may not be charged to the employee"
)
PERM_RULE = "20 CFR 656.12(b): the alien may not pay any PERM labor certification cost"
PAYER_RULES: list[tuple[str, str, bool, str]] = [
    *[(ct, FeeCategory.ATTORNEY_FEE, False, H1B_RULE) for ct in H1B_TYPES],
    *[(ct, REQUIRED, False, ACWIA_RULE) for ct in H1B_TYPES],
    *[(ct, FeeCategory.COST, False, H1B_RULE) for ct in H1B_TYPES],
    *[
        (ct, OPTIONAL, True, "Optional premium processing requested for the employee's benefit")
        for ct in H1B_TYPES
    ],
    *[
        (ct, FeeCategory.DEPENDENT_FEE, True, "H-4 dependent fees may be paid by the employee")
        for ct in H1B_TYPES
    ],
    *[("perm", category, False, PERM_RULE) for category in FeeCategory.values],
]

# template name, service, bill to, fee lines (description, amount or None, category), gov fees,
# include unbilled, installments, terms
TEMPLATES: list[tuple[Any, ...]] = [
    (
        "H-1B petition filing",
        "H1B",
        Payer.PETITIONER,
        [("H-1B petition: LCA, petition and support letter", None, FeeCategory.ATTORNEY_FEE)],
        ["I129", "ACWIA", "FRAUD", "ASYLUM_PROGRAM"],  # FRAUD: not on extensions
        False,
        1,
        "Government fees are paid to USCIS at filing and are not refundable.",
    ),
    (
        "H-4 dependent (employee-paid)",
        "H4",
        Payer.BENEFICIARY,
        [("H-4 dependent application (I-539)", None, FeeCategory.DEPENDENT_FEE)],
        [],
        False,
        1,
        "",
    ),
    (
        "PERM labor certification plan",
        "PERM",
        Payer.PETITIONER,
        [("PERM labor certification", None, FeeCategory.ATTORNEY_FEE)],
        [],
        False,
        3,
        "Billed in three monthly installments. PERM costs are the employer's by law.",
    ),
    (
        "I-140 filing",
        "I140",
        Payer.PETITIONER,
        [("I-140 immigrant petition", None, FeeCategory.ATTORNEY_FEE)],
        ["I140", "ASYLUM_PROGRAM"],
        False,
        1,
        "",
    ),
    (
        "I-130 filing",
        "I130",
        Payer.PETITIONER,
        [("I-130 petition for alien relative", None, FeeCategory.ATTORNEY_FEE)],
        ["I130"],
        False,
        1,
        "",
    ),
    (
        "I-485 filing",
        "I485",
        Payer.PETITIONER,
        [("I-485 adjustment of status", None, FeeCategory.ATTORNEY_FEE)],
        ["I485", "I765", "I131"],
        False,
        1,
        "",
    ),
    (
        "N-400 filing",
        "N400",
        Payer.PETITIONER,
        [("N-400 naturalization application", None, FeeCategory.ATTORNEY_FEE)],
        ["N400"],
        False,
        1,
        "",
    ),
    (
        "K-1 petition",
        "K1",
        Payer.PETITIONER,
        [("K-1 fiancé(e) petition (I-129F)", None, FeeCategory.ATTORNEY_FEE)],
        ["I129F"],
        False,
        1,
        "",
    ),
    (
        "Consultation",
        "CONSULT",
        Payer.PETITIONER,
        [("Initial consultation and advice letter", None, FeeCategory.ATTORNEY_FEE)],
        [],
        False,
        1,
        "",
    ),
    (
        "Asylum application",
        "ASYLUM",
        Payer.PETITIONER,
        [("Asylum application: declaration and I-589", None, FeeCategory.ATTORNEY_FEE)],
        [],
        False,
        1,
        "",
    ),
    (
        "Removal defense (hourly)",
        "REMOVAL",
        Payer.PETITIONER,
        [],
        [],
        True,
        1,
        "Hourly work to date, billed at each hearing milestone.",
    ),
    (
        "RFE response",
        "RFE",
        Payer.PETITIONER,
        [("RFE / NOID review and response strategy", None, FeeCategory.ATTORNEY_FEE)],
        [],
        True,
        1,
        "",
    ),
    (
        "Appeal",
        "APPEAL",
        Payer.PETITIONER,
        [("Appeal or motion: brief and filing", None, FeeCategory.ATTORNEY_FEE)],
        [],
        False,
        1,
        "",
    ),
    (
        "Compliance retainer",
        "RETAINER",
        Payer.PETITIONER,
        [("Immigration compliance retainer", None, FeeCategory.ATTORNEY_FEE)],
        [],
        False,
        1,
        "Monthly retainer for I-9, public access files and status tracking.",
    ),
]

# case type, stage code, template
STAGE_TRIGGERS = [
    *[(ct, "prepare_filing", "H-1B petition filing") for ct in H1B_TYPES],
    ("i140", "petition_prepared", "I-140 filing"),
    ("i130", "documents_collected", "I-130 filing"),
    ("i485", "documents_collected", "I-485 filing"),
    ("n400", "intake", "N-400 filing"),
    ("k1", "intake", "K-1 petition"),
    ("consultation", "consultation_held", "Consultation"),
    ("asylum_i589", "declaration_prepared", "Asylum application"),
    ("removal_defense", "master_calendar_hearing", "Removal defense (hourly)"),
    ("removal_defense", "individual_hearing", "Removal defense (hourly)"),
    ("rfe_noid_response", "response_prepared", "RFE response"),
    ("appeal_motion", "brief_prepared", "Appeal"),
]

RATES = {
    "partner": "650.00",
    "partner2": "600.00",
    "attorney": "425.00",
    "attorney2": "400.00",
    "paralegal": "175.00",
    "paralegal2": "160.00",
}

NARRATIVES = [
    ("A103", "L210", "Draft petition support letter and exhibits index"),
    ("A106", "L120", "Call with HR about the position and wage level"),
    ("A104", "L110", "Review employment history and degree evaluation"),
    ("A103", "L250", "Prepare response to request for evidence"),
    ("A105", "L120", "Conference with partner on filing strategy"),
    ("A107", "L110", "Correspondence with the beneficiary about documents"),
]


def _catalog(ctx: DemoContext) -> None:
    from caseledger.matters.models import CaseType

    admin, now = ctx.users["admin"], ctx.now
    by_code: dict[str, Service] = {}
    for code, name, fee_type, price, task, activity in SERVICES:
        by_code[code] = services.service_create(
            code=code,
            name=name,
            fee_type=fee_type,
            default_price=price,
            utbms_task_code=task,
            utbms_activity_code=activity,
            actor=admin,
            now=now,
        )
    case_types = {ct.code: ct for ct in CaseType.objects.all()}
    fee_schedule_load(now=now)
    for ct, rule_category, may, citation in PAYER_RULES:
        if ct in case_types:
            services.payer_rule_set(
                case_type=case_types[ct],
                category=rule_category,
                beneficiary_may_pay=may,
                citation=citation,
                actor=admin,
                now=now,
            )
    templates: dict[str, InvoiceTemplate] = {}
    for name, service, bill_to, lines, fees, unbilled, installments, terms in TEMPLATES:
        templates[name] = services.template_create(
            service=by_code[service],
            name=name,
            bill_to=bill_to,
            lines=[
                {"description": d, "amount": a, "category": c, "kind": LineKind.FEE}
                for d, a, c in lines
            ],
            government_fee_codes=fees,
            include_unbilled=unbilled,
            installments=installments,
            terms=terms,
            actor=admin,
            now=now,
        )
    for ct, stage_code, template in STAGE_TRIGGERS:
        if ct not in case_types:
            continue
        services.trigger_create(
            case_type=case_types[ct],
            template=templates[template],
            kind=TriggerKind.STAGE,
            stage=case_types[ct].stages.get(code=stage_code),
            actor=admin,
            now=now,
        )
    if "perm" in case_types:
        services.trigger_create(
            case_type=case_types["perm"],
            template=templates["PERM labor certification plan"],
            kind=TriggerKind.CADENCE,
            cadence=Cadence.PAYMENT_PLAN,
            actor=admin,
            now=now,
        )
    for username, rate in RATES.items():
        if username in ctx.users:
            services.hourly_rate_set(
                timekeeper=ctx.users[username], rate=rate, actor=admin, now=now
            )


def _courtesy_discount(ctx: DemoContext, invoice: Invoice, approve_at: datetime) -> None:
    """Before go-live partners cut the fee at review on about two invoices in five (10-15%
    courtesy discounts for late or disputed bills); after it, one in twelve by 5%: the partner
    returns the draft with the discount, billing edits the fee line and submits it again. This is
    realization's story (billed against the catalogue price). The draw is the invoice's own
    (``Random(pk)``), so the demo's other random choices do not shift."""
    draw = random.Random(invoice.pk)
    slow = ctx.before_go_live(clock.firm_date(approve_at))
    if draw.random() >= (0.4 if slow else 1 / 12):
        return
    invoice.refresh_from_db(fields=["status"])
    if invoice.status != InvoiceStatus.IN_REVIEW:
        return
    line = (
        invoice.lines.filter(kind=LineKind.FEE, service__isnull=False, unit_price_cents__gt=0)
        .order_by("position", "id")
        .first()
    )
    if line is None:
        return
    percent = draw.choice([10, 12, 15]) if slow else 5
    cents = line.unit_price_cents * (100 - percent) // 100
    billing = ctx.users["billing"]
    services.invoice_return(
        invoice=invoice,
        actor=_approver(ctx, invoice),
        now=approve_at - timedelta(hours=3),
        comment=f"Courtesy discount: take {percent}% off the fee.",
    )
    services.invoice_line_update(
        line=line,
        unit_price=f"{cents // 100}.{cents % 100:02d}",
        actor=billing,
        now=approve_at - timedelta(hours=2),
    )
    services.invoice_submit(invoice=invoice, actor=billing, now=approve_at - timedelta(hours=1))


def _approver(ctx: DemoContext, invoice: Invoice) -> Any:
    return invoice.responsible_partner or ctx.users["partner"]


def fee_path_for(matter: Any, position: int) -> str:
    """The demo's path for a matter's government fees, by the matter's position in the firm
    (1 for the first matter opened; never its primary key, which a database that held rows
    before does not start at 1): trust for some open matters (their clients deposit the filing
    fees into trust), the client directly for some private clients, else a firm advance
    re-billed."""
    if matter.status == "OPEN" and position % 3 == 1:
        return FeePath.FROM_TRUST
    if position % 3 == 2 and matter.client.kind == "PERSON":
        return FeePath.CLIENT_DIRECT
    return FeePath.FIRM_ADVANCE


def _fee_paths(ctx: DemoContext, invoice: Invoice, at: datetime) -> None:
    billing = ctx.users["billing"]
    lines = invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE).exclude(fee_code="").order_by("id")
    for line in lines:
        if line.fee_path != FeePath.FIRM_ADVANCE:
            continue  # drafted with the matter's path then: nothing to advance
        if not FeeAdvance.objects.filter(
            matter_id=invoice.matter_id, fee_code=line.fee_code
        ).exists():
            services.fee_advance_record(
                matter=invoice.matter,
                fee_code=line.fee_code,
                amount=f"{line.amount_cents // 100}.{line.amount_cents % 100:02d}",
                paid_date=clock.firm_date(at),
                method="CHECK" if line.amount_cents < 100_000 else "CARD",
                reference=f"Firm check for {invoice.matter.number}",
                actor=billing,
                now=at,
            )


def _history(ctx: DemoContext) -> None:
    """Replay the trigger engine over the year's stage events, then review and issue the
    invoices a few days after their milestone (older than ten days) as the firm would have."""
    from caseledger.matters.models import Matter, StageEvent

    rng = ctx.rng
    start = datetime.combine(ctx.history_start, datetime.min.time(), tzinfo=ctx.now.tzinfo)
    recent = ctx.now - timedelta(days=10)
    triggers = {
        (t.case_type_id, t.stage_id): t
        for t in BillingTrigger.objects.filter(kind=TriggerKind.STAGE, active=True).select_related(
            "template"
        )
    }
    # Clients of some open matters began depositing filing fees into trust a month ago (before
    # that the firm advanced them): their invoices wait for trust to pay USCIS and trust.demo
    # issues them today, so issue numbers follow issue dates and the month-old wait is the only
    # one the turnaround figures carry.
    to_trust_at = max(start, ctx.now - timedelta(days=TRUST_FEES_SINCE_DAYS))
    to_trust: dict[int, Any] = {}
    positions: dict[int, int] = {}
    for position, matter in enumerate(
        Matter.objects.select_related("client").order_by("id"), start=1
    ):
        positions[matter.pk] = position
        path = fee_path_for(matter, position)
        if path == FeePath.CLIENT_DIRECT:
            services.matter_fee_path_set(
                matter=matter, fee_path=path, actor=ctx.users["billing"], now=start
            )
        elif path == FeePath.FROM_TRUST:
            to_trust[matter.pk] = matter
    events = (
        StageEvent.objects.filter(at__gte=start, at__lte=ctx.now)
        .select_related("matter", "matter__case_type", "matter__client")
        .order_by("at", "id")
    )
    billing = ctx.users["billing"]
    pending: list[tuple[datetime, Invoice]] = []

    def switch_to_trust(matter_id: int, at: datetime) -> None:
        matter = to_trust.pop(matter_id, None)
        if matter is not None:
            services.matter_fee_path_set(
                matter=matter, fee_path=FeePath.FROM_TRUST, actor=billing, now=at
            )

    for event in events:
        trigger = triggers.get((event.matter.case_type_id, event.stage_id))
        if trigger is None:
            continue
        if event.at >= to_trust_at:
            switch_to_trust(event.matter_id, to_trust_at)
        invoice = services.trigger_fire(
            trigger=trigger, matter=event.matter, at=event.at, actor=None, now=event.at
        )
        if invoice is None or event.at > recent:
            continue
        pending.append((event.at, invoice))
    for matter_id in list(to_trust):
        switch_to_trust(matter_id, to_trust_at)
    # Government fees: each matter's fees follow one of the three paths (ADR 011): the firm
    # advances them from operating before the invoice is approved and bills them, or they are
    # paid from the client's trust (trust.demo posts the disbursements), or the client pays
    # USCIS directly (shown for information). The matter's path was set before drafting.
    for at, invoice in pending:
        _fee_paths(ctx, invoice, at)
    # Recent drafts: one matter in three has its fees advanced already (advanced, not yet
    # billed); the others wait for the advance (billed fees not yet advanced).
    issuing = {invoice.pk for _at, invoice in pending}
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT).exclude(pk__in=issuing)
    for draft in drafts.select_related("matter").order_by("id"):
        if positions[draft.matter_id] % 3 == 0 and draft.matter.status == "OPEN":
            _fee_paths(ctx, draft, ctx.now)
    # Issue in time order so numbers follow issue dates.
    schedule = []
    for at, invoice in pending:
        # Before go-live drafts waited longer for review and issue (paper review, batch issue).
        slow = ctx.before_go_live(clock.firm_date(at))
        review_days = rng.randint(4, 12) if slow else rng.randint(1, 4)
        issue_days = rng.randint(2, 6) if slow else rng.randint(0, 3)
        approve_at = at + timedelta(days=review_days, hours=rng.randint(1, 6))
        issue_at = approve_at + timedelta(days=issue_days, hours=rng.randint(1, 4))
        schedule.append((min(issue_at, ctx.now), min(approve_at, ctx.now), invoice))
    for issue_at, approve_at, invoice in sorted(schedule, key=lambda row: (row[0], row[2].pk)):
        _courtesy_discount(ctx, invoice, approve_at)
        services.invoice_approve(invoice=invoice, actor=_approver(ctx, invoice), now=approve_at)
        if invoice.lines.filter(fee_path=FeePath.FROM_TRUST).exists():
            # "Paid from trust" is shown once trust pays USCIS: trust.demo deposits the fees,
            # posts the disbursements, then issues these approved invoices.
            continue
        services.invoice_issue(invoice=invoice, actor=billing, now=issue_at)
    # One mistake voided before payment (it keeps its number; the entry is reversed).
    first = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("issued_at", "id").first()
    if first is not None and first.issued_at is not None:
        services.invoice_void(
            invoice=first,
            actor=ctx.users["partner"],
            now=first.issued_at + timedelta(days=2),
            reason="Issued to the wrong billing contact; re-billed",
        )
    # Unbilled time on open matters (work in progress).
    matters = list(
        Matter.objects.filter(status="OPEN", hold_new_work=False)
        .select_related("client")
        .order_by("id")[:40]
    )
    timekeepers = [
        ctx.users[u] for u in ("partner", "attorney", "attorney2", "paralegal") if u in ctx.users
    ]
    for matter in matters:
        for _ in range(rng.randint(1, 3)):
            activity, task, narrative = rng.choice(NARRATIVES)
            who = rng.choice(timekeepers)
            services.time_entry_create(
                timekeeper=who,
                matter=matter,
                work_date=ctx.today - timedelta(days=rng.randint(0, 40)),
                hours=str(rng.choice([0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5])),
                activity_code=activity,
                task_code=task,
                narrative=narrative,
                actor=who,
                now=ctx.now,
            )
    # Payment plans for PERM matters and a retainer, billed by the recurring run.
    plan = InvoiceTemplate.objects.filter(name="PERM labor certification plan").first()
    retainer = InvoiceTemplate.objects.filter(name="Compliance retainer").first()
    perm_trigger = BillingTrigger.objects.filter(kind=TriggerKind.CADENCE).first()
    plan_start = (ctx.today.replace(day=1) - timedelta(days=40)).replace(day=1)
    for matter in Matter.objects.filter(case_type__code="perm", status="OPEN").order_by("id")[:4]:
        if plan is not None:
            services.schedule_create(
                matter=matter,
                template=plan,
                cadence=Cadence.PAYMENT_PLAN,
                installments=3,
                start_date=plan_start,
                trigger=perm_trigger,
                actor=ctx.users["partner"],
                now=ctx.now,
            )
    corporate = (
        Matter.objects.filter(client__client_type="CORPORATE", status="OPEN").order_by("id").first()
    )
    if corporate is not None and retainer is not None:
        services.schedule_create(
            matter=corporate,
            template=retainer,
            cadence=Cadence.MONTHLY,
            start_date=plan_start,
            actor=ctx.users["partner"],
            now=ctx.now,
        )
    services.billing_run(run_date=ctx.today, now=ctx.now)
    # Deliver the queued invoice emails now (the demo's addresses are fictitious).
    outbox.send_due(now=ctx.now, kind=INVOICE_ISSUED_KIND, limit=None)


def seed(ctx: DemoContext) -> None:
    if not Service.objects.exists():
        _catalog(ctx)
    if Invoice.objects.exists() or RecurringSchedule.objects.exists():
        return
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        _history(ctx)
