"""Demo payments: issued invoices paid in full, in part and over (unapplied credit, one part
refunded), by check, ACH, wire and card; online checkouts in every state through the sandbox
(paid, declined, awaiting settlement, held for review because the amount did not match).

Idempotent: does nothing once any payment exists. Runs after billing's demo issued invoices."""

from __future__ import annotations

from datetime import timedelta

from caseledger.billing.models import Invoice
from caseledger.core.demo_context import DemoContext
from caseledger.payments import services
from caseledger.payments.models import Payment
from caseledger.payments.providers.base import PaymentEvent
from caseledger.payments.providers.sandbox import sandbox_event, sandbox_fee
from caseledger.payments.selectors import invoice_balance_due


def seed(ctx: DemoContext) -> None:
    if Payment.objects.exists():
        return
    now = ctx.now
    billing = ctx.users.get("billing")
    invoices = list(
        Invoice.objects.filter(status="ISSUED")
        .select_related("client", "matter")
        .order_by("issue_date", "id")
    )
    # Each invoice is paid some days after issue (weeks before go-live); those whose day has not
    # come yet stay open, and so do a few others (collections has something to chase).
    payable = [i for i in invoices if invoice_balance_due(i) > 0]
    methods = [("CHECK", "CHK-{n}"), ("ACH", "ACH-{n}"), ("WIRE", "FW-{n}"), ("CARD", "")]
    for n, invoice in enumerate(payable):
        due = invoice_balance_due(invoice)
        assert invoice.issue_date is not None
        # Before go-live clients paid weeks later (paper invoices, no pay link, no reminders).
        if ctx.before_go_live(invoice.issue_date):
            lag = 28 + (n * 7) % 50
        else:
            lag = 5 + n % 20
        day = invoice.issue_date + timedelta(days=lag)
        if day > ctx.today:
            continue  # not paid yet
        method, ref = methods[n % 4]
        share = [1.0, 1.0, 0.5, 1.0, 1.2][n % 5]  # mostly in full, some partial, some over
        amount = max(100, int(due * share))
        if n % 9 == 8 or (ctx.before_go_live(invoice.issue_date) and n % 7 == 3):
            continue  # a few stay unpaid (more of the old ones: the reports demo writes off some)
        services.payment_record(
            client=invoice.client,
            matter=invoice.matter,
            method=method,
            payer=invoice.client.name,
            reference=ref.format(n=5000 + n),
            amount_cents=amount,
            received_date=day,
            fee_cents=sandbox_fee(amount) if method == "CARD" else 0,
            allocations=[services.Allocation(invoice, min(amount, due))],
            actor=billing,
            now=now,
        )
    over = Payment.objects.filter(unapplied_cents__gt=0).order_by("id").first()
    if over is not None:
        services.unapplied_credit_refund(
            payment=over,
            amount_cents=over.unapplied_cents // 2,
            method="CHECK",
            reference="Refund check 10021",
            actor=billing,
            now=now,
        )
    # Online checkouts through the sandbox on some still-open invoices.
    still_open = [i for i in invoices if invoice_balance_due(i) > 0]
    outcomes = ["success", "decline", "delayed", "mismatch"]
    for invoice, outcome in zip(still_open[-4:], outcomes, strict=False):
        session = services.checkout_create(
            purpose="INVOICE",
            client=invoice.client,
            matter=invoice.matter,
            invoice=invoice,
            amount_cents=invoice_balance_due(invoice),
            now=now,
            description=f"Invoice {invoice}",
            return_url="/",
        )
        if outcome == "mismatch":
            event = PaymentEvent(
                event_id=f"demo_evt_{session.pk}",
                event_type="sandbox.success",
                kind="paid",
                provider_session_id=session.provider_session_id or "",
                amount_cents=max(1, session.amount_cents - 5_000),
                currency=session.currency,
                payer=invoice.client.name,
            )
        else:
            event = sandbox_event(session=session, outcome=outcome, payer=invoice.client.name)
        services.checkout_event_process(event=event, provider="sandbox", now=now)
