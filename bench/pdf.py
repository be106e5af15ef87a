"""``pdf``: invoice PDFs per second (the layout and rendering ``invoice_issue`` runs on an issued
invoice's document: letterhead, sections, tables, totals) vs a bare ReportLab page carrying the
same text (every string of the same document drawn line after line: no layout). Goal: ratio
>= 0.5. ``end_to_end_rate`` adds reading the invoice, its lines, the firm and the matter's trust
balance from the database before each render.
Quick: 200 renders; ``--full``: 2,000."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from bench.generate import generate_firm
from bench.registry import BenchContext, register, result

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@register("pdf")
def bench_pdf(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.billing import selectors, services
    from caseledger.billing.choices import FeeCategory, FeeType, LineKind
    from caseledger.billing.models import Invoice, InvoiceLine
    from caseledger.billing.pdf import render_bare_page, render_invoice_pdf
    from caseledger.core.models import User
    from caseledger.matters.models import Matter

    n = 2_000 if ctx.full else 200
    # The invoices bill an H-1B petition with its government fees: twenty of the generated
    # firm's H-1B matters (employer clients, each with its beneficiary), not whatever comes first.
    firm = generate_firm(matters=200)
    h1b = list(
        Matter.objects.filter(
            pk__in=firm.matter_ids, case_type__code__in=["h1b_cap", "h1b_extension", "h1b_transfer"]
        )
        .order_by("id")
        .values_list("id", flat=True)[:20]
    )
    if len(h1b) < 20:
        raise RuntimeError(f"the generated firm has {len(h1b)} H-1B matters, 20 needed")
    service = services.service_create(
        code="H1B",
        name="H-1B petition",
        fee_type=FeeType.FLAT,
        default_price="3,500.00",
        utbms_task_code="L210",
        utbms_activity_code="A103",
        actor=None,
        now=NOW,
    )
    invoices = []
    partner = User.objects.filter(pk__in=firm.user_ids, role="PARTNER").first()
    for matter in Matter.objects.filter(pk__in=h1b).order_by("id"):
        invoice = services.invoice_draft_create(matter=matter, actor=None, now=NOW)
        for description, price, kind, category in (
            (
                "H-1B petition: LCA, petition and support letter",
                "3,500.00",
                LineKind.FEE,
                FeeCategory.ATTORNEY_FEE,
            ),
            (
                "Review of the position and wage level with HR",
                "425.00",
                LineKind.FEE,
                FeeCategory.ATTORNEY_FEE,
            ),
            (
                "USCIS I-129 filing fee (H-1B)",
                "780.00",
                LineKind.GOVERNMENT_FEE,
                FeeCategory.REQUIRED_GOVERNMENT_FEE,
            ),
            (
                "ACWIA training fee",
                "1,500.00",
                LineKind.GOVERNMENT_FEE,
                FeeCategory.REQUIRED_GOVERNMENT_FEE,
            ),
            (
                "Fraud prevention and detection fee",
                "500.00",
                LineKind.GOVERNMENT_FEE,
                FeeCategory.REQUIRED_GOVERNMENT_FEE,
            ),
            (
                "Asylum program fee",
                "600.00",
                LineKind.GOVERNMENT_FEE,
                FeeCategory.REQUIRED_GOVERNMENT_FEE,
            ),
        ):
            services.invoice_line_add(
                invoice=invoice,
                description=description,
                unit_price=price,
                kind=kind,
                category=category,
                service=service,
                actor=partner,
                now=NOW,
            )
        # The firm advanced the government fees to USCIS (ADR 011): record each advance so the
        # issue can bill it.
        codes = iter(["I129", "ACWIA", "FRAUD", "ASYLUM_PROGRAM"])
        for line in invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE).order_by("position"):
            code = next(codes)
            InvoiceLine.objects.filter(pk=line.pk).update(fee_code=code)
            services.fee_advance_record(
                matter=matter,
                fee_code=code,
                amount=f"{line.amount_cents // 100}.{line.amount_cents % 100:02d}",
                paid_date=NOW.date(),
                method="CHECK",
                actor=partner,
                now=NOW,
            )
        services.invoice_submit(invoice=invoice, actor=partner, now=NOW)
        services.invoice_approve(invoice=invoice, actor=partner, now=NOW)
        services.invoice_issue(invoice=invoice, actor=partner, now=NOW)
        invoices.append(invoice.pk)
    link = "https://firm.example/billing/i/MQ:1pXyZa:abcdefghijklmnopqrstuvwxyz0123456789/"

    def render(pk: int) -> bytes:
        invoice = Invoice.objects.select_related("client", "matter", "matter__case_type").get(pk=pk)
        return render_invoice_pdf(selectors.invoice_document(invoice=invoice, payment_link=link))

    docs = [
        selectors.invoice_document(
            invoice=Invoice.objects.select_related("client", "matter").get(pk=pk),
            payment_link=link,
        )
        for pk in invoices
    ]
    texts: list[list[str]] = []
    for doc in docs:  # what each invoice page prints; also warms up fonts and caches
        printed: list[str] = []
        render_invoice_pdf(doc, record=printed)
        texts.append(printed)
        render_bare_page(printed)
    # Interleaved (one invoice, then one bare page) so a busy machine slows both alike.
    latencies: list[float] = []
    baseline_seconds = 0.0
    for i in range(n):
        t0 = time.perf_counter()
        render_invoice_pdf(docs[i % len(docs)])
        t1 = time.perf_counter()
        render_bare_page(texts[i % len(texts)])
        baseline_seconds += time.perf_counter() - t1
        latencies.append(t1 - t0)
    seconds = sum(latencies)

    # End to end as at issue: read the invoice, its lines, the firm and the trust balance, then
    # render. Reported beside the ratio; it depends on the database's latency.
    t0 = time.perf_counter()
    for i in range(n):
        render(invoices[i % len(invoices)])
    end_to_end_seconds = time.perf_counter() - t0

    out = result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="bare ReportLab Letter page with the same text",
        baseline_n=n,
        baseline_seconds=baseline_seconds,
        latencies_s=latencies,
    )
    out["end_to_end_rate"] = round(n / end_to_end_seconds, 1)
    out["strings_per_page"] = len(texts[0])
    return out
