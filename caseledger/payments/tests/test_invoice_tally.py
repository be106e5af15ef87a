"""The invoice tally (``InvoiceTally``, payments 0008): its triggers keep it equal to the direct
aggregate of the invoices and their settlements through every way an invoice or a settlement
changes (services, bulk_create, raw SQL), compaction keeps its sums, the invoice list and the
API read their totals from it with the same figures, and ``manage.py verify`` catches a
tampered row."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.billing import selectors as billing_selectors
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.credits.choices import ReasonCode
from caseledger.credits.services import credit_note_request, write_off_request
from caseledger.credits.tests import factories as F
from caseledger.payments.models import InvoiceSettlement, InvoiceTally
from caseledger.payments.selectors import invoice_tally_verify
from caseledger.payments.tally import invoice_tally_compact, invoice_tally_rebuild

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 2)
STATUSES = ["", *InvoiceStatus.values]


def _direct(user: Any, status: str = "", partner_id: int | None = None) -> Any:
    """The list's totals summed over its rows (the fallback the tally replaces)."""
    _, totals = billing_selectors.invoice_list_with_money(
        billing_selectors.invoice_list(user=user, status=status, partner_id=partner_id),
        as_of=AS_OF,
    )
    return totals


def _agrees(user: Any) -> None:
    assert invoice_tally_verify() == []
    partners = {None, *Invoice.objects.values_list("responsible_partner_id", flat=True)}
    for status in STATUSES:
        for partner_id in partners:
            tallied = billing_selectors.invoice_list_tally(
                user=user, status=status, partner_id=partner_id
            )
            assert tallied == _direct(user, status, partner_id), (status, partner_id)


def _draft(matter: Any, cents: int, partner: Any = None) -> Invoice:
    return Invoice.objects.create(
        client=matter.client,
        matter=matter,
        responsible_partner=partner,
        total_cents=cents,
        subtotal_cents=cents,
        created_at=F.NOW,
    )


def test_the_tally_follows_drafting_issuing_paying_crediting_writing_off_and_voiding(users, now):
    billing = users["BILLING"]
    partner = users["PARTNER"]
    m = F.matter(partner=partner)
    _agrees(billing)
    draft = _draft(m, 12_345, partner)
    _agrees(billing)
    # a line added
    Invoice.objects.filter(pk=draft.pk).update(total_cents=20_000, subtotal_cents=20_000)
    _agrees(billing)
    partly, credited, written_off, voided = (
        F.invoice(matter_obj=m, cents=50_000, issued=date(2026, 9, 1)) for _ in range(4)
    )
    _agrees(billing)
    F.pay(invoice_obj=partly, cents=10_000, day=date(2026, 9, 5))
    _agrees(billing)
    F.pay(invoice_obj=credited, cents=20_000, day=date(2026, 9, 5))
    credit_note_request(
        invoice=credited,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=30_000,
        actor=partner,
        now=now,
    )
    _agrees(billing)
    write_off_request(invoice=written_off, reason="Gone", actor=partner, now=now)
    _agrees(billing)
    Invoice.objects.filter(pk=voided.pk).update(status=InvoiceStatus.VOID)
    _agrees(billing)
    assert _direct(billing, InvoiceStatus.ISSUED).balance_due_cents == 40_000  # partly paid
    draft.delete()
    _agrees(billing)


def test_bulk_create_raw_sql_and_compaction_keep_it_exact(users):
    billing = users["BILLING"]
    partner = users["PARTNER"]
    m = F.matter(partner=partner)
    Invoice.objects.bulk_create(
        [
            Invoice(
                client=m.client,
                matter=m,
                responsible_partner=partner if i % 2 else None,
                total_cents=1_000 * (i + 1),
                subtotal_cents=1_000 * (i + 1),
                created_at=F.NOW,
            )
            for i in range(10)
        ]
    )
    issued = F.invoice(matter_obj=m, cents=7_000)
    _agrees(billing)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE billing_invoice SET responsible_partner_id = %s, "
            "total_cents = total_cents + 1, subtotal_cents = subtotal_cents + 1 "
            "WHERE status = 'DRAFT' AND responsible_partner_id IS NULL",
            [partner.pk],
        )
        cur.execute(
            "UPDATE payments_invoicesettlement SET written_off_cents = 2500 WHERE invoice_id = %s",
            [issued.pk],
        )
        cur.execute("DELETE FROM billing_invoice WHERE status = 'DRAFT' AND total_cents > 8000")
    _agrees(billing)
    before = InvoiceTally.objects.count()
    left = invoice_tally_compact()
    # one row per (status, partner) with invoices: drafts and the issued one, all the partner's
    assert left == InvoiceTally.objects.count() == 2 < before
    _agrees(billing)
    Invoice.objects.filter(status=InvoiceStatus.DRAFT).delete()
    invoice_tally_compact()  # the drafts' key sums to zero: dropped
    assert list(InvoiceTally.objects.values_list("status", "invoice_count")) == [("ISSUED", 1)]
    _agrees(billing)
    InvoiceTally.objects.all().delete()
    assert invoice_tally_verify() != []
    invoice_tally_rebuild()
    _agrees(billing)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["draft", "total", "partner", "issue", "pay", "void", "compact"]),
            st.integers(min_value=0, max_value=7),
            st.integers(min_value=1, max_value=90_000),
        ),
        max_size=14,
    )
)
def test_any_sequence_of_changes_keeps_the_tally_exact(users, steps):
    billing, partner = users["BILLING"], users["PARTNER"]
    m = F.matter(partner=partner)
    mine: list[int] = []
    for op, pick, cents in steps:
        target = Invoice.objects.filter(pk=mine[pick % len(mine)]).first() if mine else None
        if op == "draft" or target is None:
            mine.append(_draft(m, cents, partner if pick % 2 else None).pk)
        elif target.status == InvoiceStatus.DRAFT and op == "total":
            Invoice.objects.filter(pk=target.pk).update(total_cents=cents, subtotal_cents=cents)
        elif target.status == InvoiceStatus.DRAFT and op == "partner":
            who = None if target.responsible_partner_id else partner
            Invoice.objects.filter(pk=target.pk).update(responsible_partner=who)
        elif target.status == InvoiceStatus.DRAFT and op == "issue":
            Invoice.objects.filter(pk=target.pk).update(
                status=InvoiceStatus.ISSUED, number=f"T-{target.pk}"
            )
            if pick % 3:  # sometimes no settlement row yet: the total is due
                InvoiceSettlement.objects.create(
                    invoice=target, total_cents=target.total_cents, updated_at=F.NOW
                )
        elif op == "pay":
            InvoiceSettlement.objects.filter(invoice=target).update(
                paid_cents=min(cents, target.total_cents) // (pick + 1)
            )
        elif target.status == InvoiceStatus.ISSUED and op == "void":
            Invoice.objects.filter(pk=target.pk).update(status=InvoiceStatus.VOID)
        elif op == "compact":
            invoice_tally_compact()
    _agrees(billing)


def test_verify_reports_a_tampered_tally_row(users):
    from django.core.management import call_command

    m = F.matter(partner=users["PARTNER"])
    inv = F.invoice(matter_obj=m, cents=40_000)
    assert invoice_tally_verify() == []
    InvoiceTally.objects.create(
        status="ISSUED",
        responsible_partner_id=inv.responsible_partner_id,
        invoice_count=0,
        total_cents=0,
        balance_due_cents=-1,
    )
    assert invoice_tally_verify() == [
        f"invoice tally ISSUED/partner {inv.responsible_partner_id}: the tally has 1 invoices, "
        "40000 cents total, 39999 cents due, the invoices give 1 invoices, 40000 cents total, "
        "40000 cents due"
    ]
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("verify", stdout=out)
    assert '"check": "invoice_tally"' in out.getvalue()


@pytest.mark.parametrize(
    ("role", "filters"),
    [
        ("ATTORNEY", {}),  # sees only their matters' invoices
        ("PARALEGAL", {"status": "ISSUED"}),
        ("BILLING", {"client_id": 1}),
        ("BILLING", {"date_from": date(2026, 9, 1)}),
        ("BILLING", {"date_to": date(2026, 9, 1)}),
        ("BILLING", {"payment_state": "paid"}),
    ],
)
def test_the_tally_answers_only_unscoped_status_and_partner_filters(users, role, filters):
    assert billing_selectors.invoice_list_tally(user=users[role], **filters) is None


def test_the_page_shows_the_same_totals_from_the_tally_as_summed(users, login):
    partner = users["PARTNER"]
    m = F.matter(partner=partner)
    paid = F.invoice(matter_obj=m, cents=30_000)
    F.invoice(matter_obj=m, cents=12_000)
    F.pay(invoice_obj=paid, cents=5_000, day=date(2026, 9, 5))
    _draft(m, 999)
    http = login(users["BILLING"])
    for params in ({}, {"status": "ISSUED"}, {"partner": partner.pk}, {"status": "DRAFT"}):
        tallied = http.get("/billing/invoices/", params).context["totals"]
        # the same filters with a date that excludes nothing: summed over the rows
        summed = http.get("/billing/invoices/", {**params, "date_from": "2000-01-01"}).context[
            "totals"
        ]
        assert tallied == summed, params
    assert tallied.count == 1
    totals = http.get("/billing/invoices/", {"status": "ISSUED"}).context["totals"]
    assert (totals.count, totals.total_cents, totals.balance_due_cents) == (2, 42_000, 37_000)
