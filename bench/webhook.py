"""``webhook``: signed Stripe payment webhooks processed per second end to end (Django's test
client through the whole stack: middleware, URL routing, signature verification with the real
``stripe`` library, once-only event row, payment, allocation, ledger entry, audit event) vs the
same payments recorded by calling ``payments.services.payment_record`` directly. Goal: ratio
>= 0.3 on PostgreSQL.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from bench.registry import BenchContext, register, result

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)


class BenchFailure(RuntimeError):
    pass


def _issue(matter: Any, cents: int, seq: int) -> Any:
    """An issued invoice with its ledger entry and settlement row (what billing's issue does)."""
    from caseledger.billing import hooks
    from caseledger.billing.models import Invoice
    from caseledger.ledger import accounts as A
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    invoice = Invoice.objects.create(
        client=matter.client,
        matter=matter,
        status="ISSUED",
        number=f"BW-{seq:06d}",
        issue_date=DAY,
        due_date=DAY,
        total_cents=cents,
        subtotal_cents=cents,
        created_at=NOW,
    )
    entry_post(
        kind=EntryKind.INVOICE_ISSUED,
        entry_date=DAY,
        memo=f"Invoice {invoice}",
        lines=[
            PostingLine(
                A.ACCOUNTS_RECEIVABLE, cents, client=matter.client, matter=matter, invoice=invoice
            ),
            PostingLine(
                A.FEE_REVENUE, -cents, client=matter.client, matter=matter, invoice=invoice
            ),
        ],
        actor=None,
        now=NOW,
    )
    hooks.invoice_issued(invoice)
    return invoice


@register("webhook")
def bench_webhook(ctx: BenchContext) -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client as HttpClient
    from django.urls import reverse

    from caseledger.ledger.selectors import ledger_verify
    from caseledger.matters.tests.factories import MatterFactory
    from caseledger.payments import services
    from caseledger.payments.models import CheckoutSession, Payment
    from caseledger.payments.selectors import invoice_balance_due
    from caseledger.payments.tests import stripe_helpers as S

    n = 1000 if ctx.full else 150
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    matters = [MatterFactory() for _ in range(10)]
    hooked = [_issue(matters[i % 10], 20_000 + i, i) for i in range(n)]
    direct = [_issue(matters[i % 10], 20_000 + i, n + i) for i in range(n)]
    deliveries = []
    for i, invoice in enumerate(hooked):
        CheckoutSession.objects.create(
            provider="stripe",
            provider_session_id=f"cs_bench_{i}",
            purpose="INVOICE",
            client=invoice.client,
            matter=invoice.matter,
            invoice=invoice,
            amount_cents=invoice.total_cents,
            created_at=NOW,
        )
        payload = S.checkout_completed(
            session_id=f"cs_bench_{i}", amount_cents=invoice.total_cents, event_id=f"evt_bench_{i}"
        )
        deliveries.append((payload, S.sign(payload)))
    http = HttpClient(HTTP_HOST="127.0.0.1")
    url = reverse("payments:stripe_webhook")

    latencies: list[float] = []
    start = time.perf_counter()
    for payload, header in deliveries:
        t0 = time.perf_counter()
        response = http.post(
            url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 200 or not response.content.startswith(b"recorded"):
            raise BenchFailure(
                f"webhook answered {response.status_code}: {response.content[:200]!r}"
            )
    seconds = time.perf_counter() - start

    base_start = time.perf_counter()
    for invoice in direct:
        services.payment_record(
            client=invoice.client,
            matter=invoice.matter,
            method="CARD",
            payer="Maria Garcia",
            reference="pi_direct",
            amount_cents=invoice.total_cents,
            received_date=DAY,
            allocations=[services.Allocation(invoice, invoice.total_cents)],
            provider="stripe",
            actor=None,
            now=NOW,
        )
    base_seconds = time.perf_counter() - base_start

    if Payment.objects.count() != 2 * n:
        raise BenchFailure(f"{Payment.objects.count()} payments, expected {2 * n}")
    for invoice in hooked[:: max(1, n // 50)] + direct[:: max(1, n // 50)]:
        if invoice_balance_due(invoice) != 0:
            raise BenchFailure(f"invoice {invoice} still has a balance due")
    problems = ledger_verify()
    if problems:
        raise BenchFailure("ledger_verify: " + "; ".join(problems[:5]))
    return result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="payment_record_direct",
        baseline_n=n,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )
