"""Demo reports: the baseline is the six months before the demo firm went live (DemoContext:
eighteen months of history, go-live nine months ago), and the history gets the two things the
other demos leave out and the dashboards measure: the staff time spent on billing (non-billable
A111 time of the paralegals who prepare invoices: about half an hour an invoice before go-live,
ten minutes after) and the write-offs of the old invoices that were never paid (before go-live,
most unpaid invoices were written off four months after issue). Billing's and payments' demos make
the rest of the story: slower review and later payments before go-live.

Everything through the services, at the historical time; idempotent (keyed by the baseline
being set)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from caseledger.core import clock
from caseledger.core.demo_context import DemoContext
from caseledger.reports import metrics, selectors, services

WRITE_OFF_AFTER_DAYS = 120
# Staff minutes on billing per invoice issued in the month (before, after go-live).
MINUTES_PER_INVOICE = {True: (24, 36), False: (6, 12)}
BILLING_NARRATIVES = [
    "Prepare invoice batch and check fee lines against the engagement letter",
    "Chase remittance advice and match payments to invoices",
    "Correct billing contact and reissue invoice copy",
    "Month-end billing review with partner",
]


def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.firm_zone())


def _write_off_old(ctx: DemoContext) -> None:
    from caseledger.billing.models import Invoice
    from caseledger.credits.choices import WriteOffStatus
    from caseledger.credits.services import write_off_approve, write_off_request
    from caseledger.payments.selectors import invoice_balance_due

    old = Invoice.objects.filter(
        status="ISSUED",
        issue_date__lt=ctx.go_live,
        issue_date__lte=ctx.today - timedelta(days=WRITE_OFF_AFTER_DAYS),
    ).order_by("issue_date", "id")
    for n, invoice in enumerate(old):
        due = invoice_balance_due(invoice)
        if due <= 0 or n % 4 == 3:  # one in four is still being chased
            continue
        assert invoice.issue_date is not None
        now = _at(invoice.issue_date + timedelta(days=WRITE_OFF_AFTER_DAYS))
        requester, approver = ctx.users["partner"], ctx.users["partner2"]
        if invoice.responsible_partner_id == requester.pk:
            requester, approver = approver, requester
        write_off = write_off_request(
            invoice=invoice,
            reason="Uncollectable: no answer to three reminders",
            actor=requester,
            now=now,
        )
        if write_off.status == WriteOffStatus.PENDING_APPROVAL:
            write_off_approve(write_off=write_off, approver=approver, now=now + timedelta(hours=2))


def _billing_time(ctx: DemoContext) -> None:
    from caseledger.billing.models import Invoice
    from caseledger.billing.services import time_entry_create
    from caseledger.matters.models import Matter

    rng = ctx.rng
    staff = [ctx.users[u] for u in ("paralegal", "paralegal2") if u in ctx.users]
    matters = list(
        Matter.objects.filter(status="OPEN", hold_new_work=False).order_by("opened_date", "id")
    )
    if not staff or not matters:
        return
    month = ctx.history_start
    while month <= ctx.today:
        following = metrics.month_start(month, back=-1)
        end = min(following - timedelta(days=1), ctx.today)
        issued = Invoice.objects.filter(issue_date__gte=month, issue_date__lte=end).count()
        low, high = MINUTES_PER_INVOICE[ctx.before_go_live(month)]
        minutes = sum(rng.randint(low, high) for _ in range(issued))
        open_then = [m for m in matters if m.opened_date <= month] or matters[:1]
        # In entries of 0.5 to 2 hours spread over the month (six-minute increments).
        while minutes >= 30:
            chunk = min(minutes, rng.choice([30, 60, 90, 120]))
            minutes -= chunk
            day = month + timedelta(days=rng.randint(0, (end - month).days))
            who = rng.choice(staff)
            time_entry_create(
                timekeeper=who,
                matter=rng.choice(open_then),
                work_date=day,
                hours=f"{chunk / 60:.1f}",
                activity_code=metrics.BILLING_ACTIVITY_CODE,
                task_code="L190",  # other case administration
                narrative=rng.choice(BILLING_NARRATIVES),
                billable=False,
                actor=who,
                now=min(_at(day, 18), ctx.now),
            )
        month = following


def seed(ctx: DemoContext) -> None:
    if selectors.baseline_period(selectors.settings_get()) is not None:
        return  # seeded before (or set by the firm): leave it
    _write_off_old(ctx)
    _billing_time(ctx)
    start, end = ctx.baseline
    services.report_settings_update(
        actor=ctx.users["partner"],
        baseline_start=start,
        baseline_end=end,
        target_days=45,
        staff_cost_cents_per_hour=6_500,
        now=ctx.now,
    )
