"""Imported open invoices are collectible after the cutover: payments settle them and aging
lists what is left, under the old number and due date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.collections.selectors import aging_facts_verify, aging_invoices, aging_report
from caseledger.core.models import AuditEvent
from caseledger.imports import services
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.models import LegacyInvoice
from caseledger.imports.tests.test_services import fixture, load_base, run
from caseledger.ledger import accounts
from caseledger.ledger.selectors import account_balance
from caseledger.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_payment_on_imported_open_invoice_and_aging_shows_the_rest(
    now: Any, users: dict[str, Any]
) -> None:
    load_base(now)
    assert run("clio-bills", fixture("clio-bills", drop=(4, 5)), now)["errors"] == []
    invoice = LegacyInvoice.objects.get()
    partner = users["PARTNER"]
    kwargs = {
        "invoice": invoice,
        "method": "CHECK",
        "payer": "Ingrid Halvorsen",
        "amount_cents": 30000,
        "received_date": date(2025, 7, 15),
        "reference": "1187",
        "actor": partner,
        "now": now,
    }
    with pytest.raises(ImportRefused, match="invoice: L-1042 reaches accounts receivable"):
        services.legacy_invoice_pay(**kwargs)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=0,
        aging_total_cents=76000,
        actor=partner,
        now=now,
    )
    services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    before = aging_invoices(as_of=date(2025, 7, 20))
    assert [(r.number, r.bucket, r.balance_cents) for r in before] == [("L-1042", "d61_90", 76000)]
    with pytest.raises(ImportRefused, match="amount: .* is more than the .* still open"):
        services.legacy_invoice_pay(**{**kwargs, "amount_cents": 76001})

    services.legacy_invoice_pay(**kwargs)

    invoice.refresh_from_db()
    assert invoice.open_cents == 46000
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.unapplied_cents) == (30000, 0)
    as_of = date(2025, 7, 20)
    rows = aging_invoices(as_of=as_of)
    assert [(r.number, r.bucket, r.balance_cents, r.client) for r in rows] == [
        ("L-1042", "d61_90", 46000, "Ingrid Halvorsen")
    ]
    report = aging_report(as_of=as_of)
    assert report.total == 46000 == account_balance(code=accounts.ACCOUNTS_RECEIVABLE, as_of=as_of)
    assert report.totals["d61_90"] == 46000
    assert account_balance(code=accounts.UNAPPLIED_CLIENT_CREDITS, as_of=as_of) == 0
    assert aging_facts_verify() == []
    assert AuditEvent.objects.filter(action="imports.legacy_invoice_paid").count() == 1
    with pytest.raises(ImportRefused, match="amount"):
        services.legacy_invoice_pay(**{**kwargs, "amount_cents": 46001})


def test_receivables_scope_must_name_every_loose_ar_posting(users: dict[str, Any]) -> None:
    from caseledger.collections.services.aging_facts import receivables
    from caseledger.credits.tests import factories
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import JournalEntry
    from caseledger.ledger.services import PostingLine, entry_post

    matter = factories.matter(partner=users["PARTNER"])
    lines = [
        PostingLine(accounts.ACCOUNTS_RECEIVABLE, 100, client=matter.client, matter=matter),
        PostingLine(accounts.ACCOUNTS_RECEIVABLE, 200, client=matter.client, matter=matter),
        PostingLine(accounts.EQUITY, -300),
    ]
    with (
        pytest.raises(ValueError, match="2 A/R posting\\(s\\) without an invoice, 1 reference"),
        receivables([(date(2025, 5, 1), "L-1")]),
    ):
        entry_post(
            kind=EntryKind.OPENING_BALANCE,
            entry_date=date(2025, 6, 30),
            memo="x",
            lines=lines,
            actor=None,
            now=factories.NOW,
        )
    assert not JournalEntry.objects.exists()  # the listener's refusal rolled the entry back
