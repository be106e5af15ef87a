"""Staff list and detail pages measured at two sizes: the number of queries a page makes must
not grow with the rows it shows (no N+1). The pattern of matters/tests/test_query_counts.py,
for the pages it and the per-app tests did not cover at two sizes.

Lists grow by whole "units" (a matter with trust money, an issued invoice partly paid, a credit
note and a write-off waiting for approval, a disbursement request); detail pages grow their own
children (the invoice's payments, the matter's and client's trust deposits, the payment's
allocations)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.credits import services as credits
from caseledger.credits.choices import ReasonCode
from caseledger.credits.tests import factories as cf
from caseledger.trust import services as trust
from caseledger.trust.choices import DisbursementMethod, DisbursementPurpose
from caseledger.trust.models import TrustSettings

pytestmark = pytest.mark.django_db

LISTS: list[tuple[str, dict[str, object]]] = [
    ("billing:invoice_list", {}),
    ("billing:review_queue", {}),
    ("billing:wip", {}),
    ("payments:list", {}),
    ("credits:credit_note_list", {}),
    ("credits:write_off_list", {}),
    ("trust:dashboard", {}),
    ("trust:disbursements", {}),
    ("trust:requests", {}),
    ("collections:aging", {}),
    ("collections:aging_invoices", {}),
    ("collections:queue", {}),
    ("collections:at_risk", {}),
    ("ledger:accounts", {}),
    ("ledger:trial_balance", {}),
    ("ledger:trust_ledgers", {}),
    ("banking:accounts", {}),
]


def _count(http, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _unit(users, now, i: int) -> None:
    partner = users["PARTNER"]
    m = cf.matter(partner=partner)
    cf.trust_deposit(matter_obj=m, cents=50_000, day=now.date() - timedelta(days=30))
    inv = cf.invoice(
        matter_obj=m, cents=100_000, issued=now.date() - timedelta(days=40 + i), now=now
    )
    cf.pay(invoice_obj=inv, cents=10_000, day=now.date(), now=now)
    credits.credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.COURTESY_DISCOUNT,
        amount_cents=5_000,
        actor=users["BILLING"],
        now=now,
    )
    credits.write_off_request(invoice=inv, reason="Unreachable", actor=users["BILLING"], now=now)
    trust.disbursement_request(
        matter=m,
        payee="USCIS",
        amount_cents=1_000,
        purpose=DisbursementPurpose.FILING_FEE,
        method=DisbursementMethod.CHECK,
        reference=f"chk {i}",
        actor=users["PARALEGAL"],
        now=now,
    )


def test_staff_lists_do_not_grow_with_rows(users, login, now):
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    http = login(users["PARTNER"])
    urls = [reverse(name, kwargs=kw) for name, kw in LISTS]
    for i in range(2):
        _unit(users, now, i)
    few = {url: _count(http, url) for url in urls}
    for i in range(2, 7):
        _unit(users, now, i)
    many = {url: _count(http, url) for url in urls}
    grew = {url: (few[url], many[url]) for url in urls if many[url] != few[url]}
    assert grew == {}


def test_detail_pages_do_not_grow_with_their_rows(users, login, now):
    from caseledger.payments.services import Allocation, payment_record

    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    http = login(users["PARTNER"])
    matter = cf.matter(partner=users["PARTNER"])
    invoice = cf.invoice(matter_obj=matter, cents=900_000, issued=date(2026, 9, 1), now=now)
    others = [cf.invoice(matter_obj=matter, cents=10_000, now=now) for _ in range(7)]

    def payment_over(invoices):
        return payment_record(
            client=matter.client,
            matter=matter,
            method="CHECK",
            payer="Acme",
            amount_cents=100 * len(invoices),
            received_date=now.date(),
            actor=None,
            now=now,
            allocations=[Allocation(invoice=inv, amount_cents=100) for inv in invoices],
            reference="2002",
        )

    def add(n: int) -> None:
        for _ in range(n):
            cf.pay(invoice_obj=invoice, cents=1_000, day=now.date(), now=now)
            cf.trust_deposit(matter_obj=matter, cents=2_000, day=now.date())

    pages = {
        "invoice": reverse("billing:invoice_detail", args=[invoice.pk]),
        "invoice history": reverse("collections:invoice_history", args=[invoice.pk]),
        "matter trust": reverse("trust:matter", args=[matter.pk]),
        "client trust": reverse("trust:client", args=[matter.client_id]),
        "client trust ledger": reverse("ledger:client_trust_ledger", args=[matter.client_id]),
    }
    add(2)
    few = {name: _count(http, url) for name, url in pages.items()}
    few["payment"] = _count(http, reverse("payments:detail", args=[payment_over(others[:2]).pk]))
    add(5)
    many = {name: _count(http, url) for name, url in pages.items()}
    many["payment"] = _count(http, reverse("payments:detail", args=[payment_over(others).pk]))
    grew = {name: (few[name], many[name]) for name in few if many[name] != few[name]}
    assert grew == {}


def test_long_lists_page_with_totals_over_every_row(users, login, now, monkeypatch):
    """Payments, credit notes, write-offs and tasks page their rows (next page, no fixed cap)
    with the total over every filtered row computed in SQL; the query count does not grow."""
    from caseledger.credits import views as credit_views
    from caseledger.credits.models import CreditNote, WriteOff
    from caseledger.matters import services as matter_services
    from caseledger.matters import views as matter_views
    from caseledger.payments import views as payment_views
    from caseledger.payments.models import Payment

    for module, name in (
        (payment_views, "PAGE_ROWS"),
        (credit_views, "PAGE_ROWS"),
        (matter_views, "TASK_PAGE_ROWS"),
    ):
        monkeypatch.setattr(module, name, 2)
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    partner = users["PARTNER"]
    http = login(partner)

    def grow(start: int, stop: int) -> None:
        for i in range(start, stop):
            _unit(users, now, i)
            matter_services.task_create(
                title=f"task {i}", matter=None, assignee=partner, actor=None, now=now
            )

    pages = {
        "payments": (reverse("payments:list"), Payment, "amount_cents"),
        "credit notes": (reverse("credits:credit_note_list"), CreditNote, "amount_cents"),
        "write-offs": (reverse("credits:write_off_list"), WriteOff, "amount_cents"),
        "tasks": (reverse("matters:my_tasks"), None, ""),
    }
    grow(0, 3)
    few = {name: _count(http, url) for name, (url, _, _) in pages.items()}
    grow(3, 7)
    many = {name: _count(http, url) for name, (url, _, _) in pages.items()}
    assert {n: (few[n], many[n]) for n in few if few[n] != many[n]} == {}
    for name, (url, model, column) in pages.items():
        first = http.get(url)
        page = first.context["page"]
        assert len(page.object_list) == 2, name
        assert page.paginator.count >= 7, name
        assert "page=2" in first.content.decode(), name
        last = http.get(url, {"page": page.paginator.num_pages}).context["page"]
        assert not last.has_next(), name
        if model is not None:
            every = sum(getattr(r, column) for r in model.objects.all())
            context = first.context
            total = context["totals"]["amount"] if name == "payments" else context["total_cents"]
            assert total == every, name
