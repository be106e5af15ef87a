"""Demo trust: retainers and trust requests (open, partly paid, paid), deposits by every method
(one check still clearing, one card awaiting settlement), a disputed amount, a matter below its
minimum, earned fees applied to issued invoices, and disbursements in every state (waiting for
one approval, waiting for a second partner, posted, rejected).

Idempotent: does nothing once any trust deposit exists."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from caseledger.billing.models import Invoice
from caseledger.core import clock
from caseledger.core.demo_context import DemoContext
from caseledger.core.models import Firm
from caseledger.matters.models import Matter
from caseledger.payments.selectors import invoice_balance_due
from caseledger.trust import selectors, services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import TrustDeposit


def seed(ctx: DemoContext) -> None:
    if TrustDeposit.objects.exists():
        return
    users = ctx.users
    now = ctx.now
    today = ctx.today
    matters = list(
        Matter.objects.filter(status="OPEN").select_related("client").order_by("id")[:12]
    )
    if len(matters) < 6:
        return
    threshold = Firm.objects.get(id=1).disbursement_dual_approval_cents
    billing = users["billing"]
    retainers = [500_000, 350_000, 250_000, 1_500_000, 150_000, 400_000, 300_000, 200_000]
    methods = ["WIRE", "CHECK", "ACH", "CARD", "WIRE", "CHECK", "ACH", "WIRE"]
    for i, matter in enumerate(matters[:8]):
        received = today - timedelta(days=40 + 3 * i)
        request = services.trust_request_create(
            client=matter.client,
            matter=matter,
            kind="RETAINER",
            amount_cents=retainers[i],
            due_date=received + timedelta(days=14),
            actor=billing,
            now=now - timedelta(days=50),
            send=False,
        )
        paid = retainers[i] if i != 2 else retainers[i] // 2  # one retainer only half paid
        services.deposit_record(
            client=matter.client,
            matter=matter,
            method=methods[i],
            payer=matter.client.name,
            reference=f"{methods[i][:3]}-{4100 + i}" if methods[i] != "CARD" else "",
            amount_cents=paid,
            received_date=received,
            actor=billing,
            now=now,
            trust_request=request,
            card_settled=True,
            fee_cents=round(paid * 0.029) + 30 if methods[i] == "CARD" else 0,
        )
    # Fresh money still clearing: a check received today, a card payment not yet settled.
    services.deposit_record(
        client=matters[0].client,
        matter=matters[0],
        method="CHECK",
        payer=matters[0].client.name,
        reference="CHK-7781",
        amount_cents=120_000,
        received_date=today,
        actor=billing,
        now=now,
    )
    services.deposit_record(
        client=matters[1].client,
        matter=matters[1],
        method="CARD",
        payer=matters[1].client.name,
        amount_cents=80_000,
        fee_cents=2_350,
        received_date=today - timedelta(days=1),
        actor=billing,
        now=now,
        card_settled=False,
    )
    # Open requests: a new retainer and a replenishment.
    services.trust_request_create(
        client=matters[8 % len(matters)].client,
        matter=matters[8 % len(matters)],
        kind="RETAINER",
        amount_cents=450_000,
        due_date=today + timedelta(days=10),
        actor=billing,
        now=now,
        send=False,
    )
    services.trust_request_create(
        client=matters[4].client,
        matter=matters[4],
        kind="REPLENISHMENT",
        amount_cents=100_000,
        due_date=today + timedelta(days=14),
        actor=billing,
        now=now,
        send=False,
    )
    # A disputed amount.
    services.dispute_hold_create(
        matter=matters[3],
        amount_cents=125_000,
        reason="Client disputes the RFE response fee",
        actor=users["partner"],
        now=now,
    )
    _costs_history(ctx)
    # Government fees paid from trust (billing ADR 011): the client deposits the filing fees,
    # a disbursement to DHS names each fee, and the invoice shows it "paid from trust".
    _filing_fees_from_trust(ctx)
    # Disbursements in every state.
    # Above the firm's dual-approval threshold: one partner has approved, a second must.
    big = threshold + 50_000
    if selectors.trust_position(matters[3], today).available_cents >= big:
        d2 = services.disbursement_request(
            matter=matters[3],
            payee="Global Credential Evaluators LLC",
            amount_cents=big,
            purpose="THIRD_PARTY",
            method="WIRE",
            reference="Expert opinion letters and credential evaluations",
            actor=users["paralegal"],
            now=now,
        )
        services.disbursement_approve(disbursement=d2, approver=users["partner"], now=now)
    services.disbursement_request(
        matter=matters[6],
        payee="Translation Partners LLC",
        amount_cents=18_500,
        purpose="THIRD_PARTY",
        method="ACH",
        reference="Certified translations",
        actor=users["paralegal2"],
        now=now,
    )
    d4 = services.disbursement_request(
        matter=matters[7],
        payee=matters[7].client.name,
        amount_cents=25_000,
        purpose="REFUND",
        method="CHECK",
        reference="Unused retainer",
        actor=billing,
        now=now,
    )
    services.disbursement_reject(
        disbursement=d4, actor=users["partner"], now=now, note="Matter still active; hold funds"
    )
    # Earned fees last: issued invoices on these matters paid from what trust still holds.
    for matter in matters[:8]:
        invoice = (
            Invoice.objects.filter(matter=matter, status="ISSUED")
            .order_by("issue_date", "id")
            .first()
        )
        if invoice is None or invoice.issue_date is None or invoice_balance_due(invoice) <= 0:
            continue
        try:
            services.trust_apply_to_invoice(invoice=invoice, actor=billing, now=now)
        except TrustError:
            continue


def _filing_fees_from_trust(ctx: DemoContext) -> None:
    """For every government-fee line marked "paid from trust" on an open matter: a deposit of
    the matter's filing fees (cleared), then one approved and posted disbursement to DHS per fee,
    carrying the fee code."""
    from collections import defaultdict

    from caseledger.billing.choices import FeePath
    from caseledger.billing.models import InvoiceLine

    users, now, today = ctx.users, ctx.now, ctx.today
    threshold = Firm.objects.get(id=1).disbursement_dual_approval_cents
    lines = (
        InvoiceLine.objects.filter(fee_path=FeePath.FROM_TRUST, invoice__matter__status="OPEN")
        .exclude(invoice__status="VOID")
        .select_related("invoice__matter__client")
        .order_by("invoice__matter_id", "id")
    )
    by_matter: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        by_matter[line.invoice.matter_id].append(line)
    for matter_lines in by_matter.values():
        matter = matter_lines[0].invoice.matter
        total = sum(line.fee_amount_cents for line in matter_lines)
        services.deposit_record(
            client=matter.client,
            matter=matter,
            method="WIRE",
            payer=matter.client.name,
            reference=f"WIRE-FEES-{matter.pk}",
            amount_cents=total,
            received_date=today - timedelta(days=20),
            actor=users["billing"],
            now=now,
        )
        for line in matter_lines:
            disbursement = services.disbursement_request(
                matter=matter,
                payee="U.S. Department of Homeland Security",
                amount_cents=line.fee_amount_cents,
                purpose="FILING_FEE",
                method="CHECK",
                reference=line.description[:120],
                fee_code=line.fee_code,
                actor=users["paralegal"],
                now=now,
            )
            services.disbursement_approve(
                disbursement=disbursement, approver=users["attorney"], now=now
            )
            if line.fee_amount_cents > threshold:
                services.disbursement_approve(
                    disbursement=disbursement, approver=users["partner"], now=now
                )
            services.disbursement_post(disbursement=disbursement, actor=users["attorney"], now=now)
    # The invoices showing those fees "paid from trust" are issued once trust has paid them
    # (billing.demo leaves them approved): an invoice never promises trust money it lacks.
    from caseledger.billing.services import invoice_issue

    approved = (
        Invoice.objects.filter(
            status="APPROVED", lines__fee_path=FeePath.FROM_TRUST, matter__status="OPEN"
        )
        .distinct()
        .order_by("id")
    )
    for invoice in approved:
        invoice_issue(invoice=invoice, actor=users["billing"], now=now)


# Third-party costs a corporate client's cost deposit pays, one vendor a month in turn.
COST_VENDORS = [
    ("Translation Partners LLC", "Certified translations of degree and employment records"),
    ("Global Credential Evaluators LLC", "Foreign degree equivalency evaluation"),
    ("FedEx", "Overnight courier of the filing packages to the USCIS lockbox"),
    ("Records Retrieval Services", "Certified copies of prior filings"),
]


def _costs_history(ctx: DemoContext) -> None:
    """A corporate client keeps its costs in trust: since the demo's history began, on the 3rd
    of every month it wires the month's third-party costs and a week later the firm pays the
    vendor from trust (requested by a paralegal, approved by an attorney, posted). The trust
    account so has activity in every month, hence a bank statement and a three-way
    reconciliation for every month (banking.demo.seed_late): the reconciliation figures have a
    baseline. Each month's deposit is spent, so the history leaves no balance behind. The
    amounts are the month's own draw (``Random(month)``), so the demo's other random choices
    do not shift."""
    matter = (
        Matter.objects.filter(
            status="OPEN", client__client_type="CORPORATE", opened_date__lt=ctx.history_start
        )
        .select_related("client")
        .order_by("opened_date", "id")
        .first()
    )
    if matter is None:
        return
    users = ctx.users
    # From the history's first month to last month.
    for index, back in enumerate(range(ctx.HISTORY_MONTHS - 1, 0, -1)):
        month = ctx.month_back(back)
        draw = random.Random(month.toordinal())
        amount = draw.randrange(45_000, 125_000, 500)
        received = month + timedelta(days=2)
        at = datetime.combine(received, time(10), tzinfo=clock.firm_zone())
        services.deposit_record(
            client=matter.client,
            matter=matter,
            method="WIRE",
            payer=matter.client.name,
            reference=f"WIRE-COSTS-{month:%Y%m}",
            amount_cents=amount,
            received_date=received,
            actor=users["billing"],
            now=at,
        )
        payee, reference = COST_VENDORS[index % len(COST_VENDORS)]
        paid_at = at + timedelta(days=7)
        disbursement = services.disbursement_request(
            matter=matter,
            payee=payee,
            amount_cents=amount,
            purpose="THIRD_PARTY",
            method="ACH",
            reference=reference,
            actor=users["paralegal"],
            now=paid_at,
        )
        services.disbursement_approve(
            disbursement=disbursement, approver=users["attorney"], now=paid_at
        )
        services.disbursement_post(
            disbursement=disbursement, actor=users["attorney"], now=paid_at + timedelta(hours=2)
        )
