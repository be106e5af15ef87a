"""Payments before the cutover (``clio-payments``, ``mycase-payments``, ``caseledger-payments``)
and vendor trust balances (``clio-trust``; PracticePanther's project trust balance is in
test_sources): each reads its documented layout (the fixture has that header row), reports its
bad rows by line and rule, imports the rest, and a rerun adds nothing. History payments are
checked per bill, kept against the imported invoice and never reach the ledger or payments."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from caseledger.banking.models import Reconciliation
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.imports import services
from caseledger.imports.models import (
    ImportRecord,
    LegacyHistoryPayment,
    LegacyInvoice,
    OpeningBalance,
)
from caseledger.imports.tests.test_services import fixture, load_base, rules, run
from caseledger.ledger.models import JournalEntry
from caseledger.payments.models import Payment

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent.parent / "samples"

PAYMENTS_BAD = [
    (6, "payments_not_sum"),  # bill 2003: 100.00 paid + 100.00 open is not its 300.00
    (7, "unknown_invoice"),
    (8, "bad_date"),
    (9, "bad_amount"),
    (10, "duplicate"),  # payment id 5001 again
    (11, "bad_amount"),  # 0.00
    (12, "missing_required"),
]
TEMPLATE_BAD = [(5, "duplicate"), (6, "bad_amount")]
MYCASE_BAD = [
    (5, "payments_not_sum"),  # invoice 2003: 100.00 paid + 100.00 open is not its 300.00
    (6, "unknown_invoice"),
    (7, "bad_date"),
    (8, "bad_amount"),
    (9, "duplicate"),  # line 2 again: no payment id, so the same invoice, date and amount
    (10, "missing_required"),  # a payment into credit names no invoice
    (11, "bad_amount"),  # 0.00
]
TRUST_BAD = [(4, "missing_required"), (5, "unknown_matter"), (6, "duplicate"), (7, "bad_amount")]


def load_bills(now: Any) -> None:
    load_base(now)
    assert run("clio-bills", fixture("clio-bills-paid"), now)["errors"] == []


def good(name: str, bad: list[tuple[int, str]]) -> bytes:
    return fixture(name, drop=tuple(line for line, _ in bad))


def test_clio_payments_bad_rows_then_import_then_rerun_adds_nothing(now: Any) -> None:
    load_bills(now)
    entries, payments = JournalEntry.objects.count(), Payment.objects.count()
    result = run("clio-payments", fixture("clio-payments"), now, dry=True)
    assert rules(result) == PAYMENTS_BAD
    assert "2003" in result["errors"][0]["message"]
    assert "lines 6" in result["errors"][0]["message"]
    assert "9999" in result["errors"][1]["message"]
    assert not LegacyHistoryPayment.objects.exists()
    first = run("clio-payments", good("clio-payments", PAYMENTS_BAD), now)
    # 5001 and 5002 on 2001, 5003 on 2002; 5004 is voided (voided_at): no payment
    assert (first["errors"], first["created"], first["rows"]) == ([], 3, 4)
    again = run("clio-payments", good("clio-payments", PAYMENTS_BAD), now)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert LegacyHistoryPayment.objects.count() == 3
    assert ImportRecord.objects.filter(kind="PAYMENT", source="clio-payments").count() == 3
    paid = LegacyHistoryPayment.objects.get(key="5001")
    assert (paid.invoice.number, paid.received_date, paid.amount_cents) == (
        "2001",
        date(2025, 4, 10),
        40000,
    )
    assert (paid.method, paid.reference, paid.description) == (
        "Check",
        "CHK-1001",
        "Retainer applied",
    )
    # History only: no journal entry, no payments.Payment (so no receipt, email or reminder),
    # and the invoice's balance and paid-since stay as imported.
    assert (JournalEntry.objects.count(), Payment.objects.count()) == (entries, payments)
    invoice = LegacyInvoice.objects.get(number="2001")
    assert (invoice.balance_cents, invoice.paid_cents) == (40000, 0)


def test_payments_must_add_up_per_bill_across_files(now: Any) -> None:
    load_bills(now)
    first_only = b"id,date,amount,bill_number\n5005,2025-04-25,100.00,2003\n"
    result = run("clio-payments", first_only, now)
    assert rules(result) == [(2, "payments_not_sum")]
    assert "together $200.00, but its total is $300.00" in result["errors"][0]["message"]
    both = first_only + b"5011,2025-04-28,100.00,2003\n"
    assert run("clio-payments", both, now)["created"] == 2
    # A later file with one more payment for the same bill counts the ones imported before.
    more = b"id,date,amount,bill_number\n5012,2025-04-29,0.01,2003\n"
    late = run("clio-payments", more, now, dry=True)
    assert rules(late) == [(2, "payments_not_sum")]
    assert "and 2 imported before" in late["errors"][0]["message"]


def test_payment_on_or_after_the_cutover_date_is_not_history(
    now: Any, users: dict[str, Any]
) -> None:
    load_bills(now)
    services.cutover_save(
        as_of=date(2025, 5, 1),
        trust_bank_cents=0,
        aging_total_cents=50000,
        actor=users["PARTNER"],
        now=now,
    )
    result = run("clio-payments", good("clio-payments", PAYMENTS_BAD), now, dry=True)
    assert rules(result) == [(3, "bad_date")]  # 5002 was received 2025-05-02
    assert "record" in result["errors"][0]["message"]


def test_history_payments_frozen_once_the_cutover_is_finalized(
    now: Any, users: dict[str, Any]
) -> None:
    load_bills(now)
    partner = users["PARTNER"]
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30), trust_bank_cents=0, aging_total_cents=50000, actor=partner, now=now
    )
    services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    result = run("clio-payments", good("clio-payments", PAYMENTS_BAD), now, dry=True)
    assert {rule for _, rule in rules(result)} == {"refused"}
    assert not LegacyHistoryPayment.objects.exists()


def test_changed_payment_needs_consent_and_updates_the_same_record(now: Any) -> None:
    load_bills(now)
    data = good("clio-payments", PAYMENTS_BAD)
    run("clio-payments", data, now)
    changed = data.replace(b"CHK-1001", b"CHK-1001A")
    result = run("clio-payments", changed, now)
    assert (result["created"], result["updated"]) == (0, 0)
    assert result["changed"][0]["diff"] == {"reference": ["CHK-1001", "CHK-1001A"]}
    result = run("clio-payments", changed, now, update=True)
    assert result["updated"] == 1
    assert LegacyHistoryPayment.objects.get(key="5001").reference == "CHK-1001A"
    assert LegacyHistoryPayment.objects.count() == 3


def test_caseledger_payments_template(now: Any) -> None:
    load_bills(now)
    result = run("caseledger-payments", fixture("caseledger-payments"), now, dry=True)
    assert rules(result) == TEMPLATE_BAD
    first = run("caseledger-payments", good("caseledger-payments", TEMPLATE_BAD), now)
    assert (first["errors"], first["created"]) == ([], 3)
    again = run("caseledger-payments", good("caseledger-payments", TEMPLATE_BAD), now)
    assert (again["created"], again["unchanged"]) == (0, 3)
    wire = LegacyHistoryPayment.objects.get(reference="W-77")
    assert (wire.method, wire.received_date, wire.source) == (
        "wire",
        date(2025, 5, 2),
        "caseledger-payments",
    )


def test_mycase_payments_bad_rows_then_import_then_rerun_adds_nothing(now: Any) -> None:
    load_bills(now)
    entries, payments = JournalEntry.objects.count(), Payment.objects.count()
    result = run("mycase-payments", fixture("mycase-payments"), now, dry=True)
    assert rules(result) == MYCASE_BAD
    assert all(e["message"] for e in result["errors"])
    assert "Invoice" in result["errors"][5]["message"]  # the header the row lacks
    assert not LegacyHistoryPayment.objects.exists()
    first = run("mycase-payments", good("mycase-payments", MYCASE_BAD), now)
    assert (first["errors"], first["created"], first["rows"]) == ([], 3, 3)
    again = run("mycase-payments", good("mycase-payments", MYCASE_BAD), now)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert LegacyHistoryPayment.objects.filter(source="mycase-payments").count() == 3
    assert ImportRecord.objects.filter(kind="PAYMENT", source="mycase-payments").count() == 3
    paid = LegacyHistoryPayment.objects.get(invoice__number="2001", amount_cents=20000)
    assert paid.received_date == date(2025, 5, 2)
    # History only, as clio-payments: no journal entry, no payments.Payment, balances as imported.
    assert (JournalEntry.objects.count(), Payment.objects.count()) == (entries, payments)
    invoice = LegacyInvoice.objects.get(number="2001")
    assert (invoice.balance_cents, invoice.paid_cents) == (40000, 0)


def test_clio_trust_bad_rows_then_import_then_rerun_and_cutover_proof(
    now: Any, users: dict[str, Any]
) -> None:
    load_base(now)
    result = run("clio-trust", fixture("clio-trust"), now, dry=True)
    assert rules(result) == TRUST_BAD
    assert not OpeningBalance.objects.exists()
    first = run("clio-trust", good("clio-trust", TRUST_BAD), now)
    assert (first["errors"], first["created"], first["rows"]) == ([], 2, 3)  # M-3's 0.00: none
    again = run("clio-trust", good("clio-trust", TRUST_BAD), now)
    assert (again["created"], again["unchanged"]) == (0, 2)
    trust = {
        (t.client.name, t.matter.number): t.amount_cents
        for t in OpeningBalance.objects.filter(kind="TRUST")
    }
    assert trust == {
        ("Ingrid Halvorsen", "L-M-1"): 150000,
        ("Northwind Robotics Inc.", "L-M-2"): 200000,
    }
    # The cutover proves and posts them as it does the template's trust balances.
    partner = users["PARTNER"]
    trust_bank_account(now)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=350000,
        aging_total_cents=0,
        actor=partner,
        now=now,
    )
    proof = services.cutover_proof(cutover)
    assert (proof.trust_total, proof.trust_ties) == (350000, True)
    done = services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    assert len(done.entries) == 1
    assert Reconciliation.objects.get().is_balanced


def test_trust_row_of_another_client_and_trust_imported_twice(now: Any) -> None:
    load_base(now)
    wrong = good("clio-trust", TRUST_BAD).replace(
        b"Northwind Robotics Inc.,M-2", b"Ingrid Halvorsen,M-2"
    )
    result = run("clio-trust", wrong, now, dry=True)
    assert rules(result) == [(3, "unknown_matter")]
    assert "belongs to another client" in result["errors"][0]["message"]


def test_matter_trust_from_two_sources_is_refused(now: Any) -> None:
    # PracticePanther's project 3001 brings its trust balance with the matter ...
    assert (
        run("practicepanther-contacts", fixture("practicepanther-contacts", drop=(4, 5, 6)), now)[
            "errors"
        ]
        == []
    )
    assert (
        run("practicepanther-matters", fixture("practicepanther-matters", drop=(4, 5, 6)), now)[
            "errors"
        ]
        == []
    )
    # ... so the same matter's trust from another file would count it twice in the proof.
    again = (
        b"Client,Matter,Unbilled Amount,Amount in Trust,Minimum Threshold,Amount Below Minimum\n"
        b"Oksana Kovalenko,3001,0.00,2500.00,0.00,0.00\n"
    )
    result = run("clio-trust", again, now, dry=True)
    assert rules(result) == [(2, "duplicate")]
    assert "L-3001 already has an opening trust balance" in result["errors"][0]["message"]
    assert OpeningBalance.objects.filter(kind="TRUST").count() == 1


@pytest.mark.parametrize(
    ("source", "created"),
    [("clio-payments", 2), ("caseledger-payments", 3), ("mycase-payments", 2), ("clio-trust", 2)],
)
def test_shipped_samples_import_cleanly(source: str, created: int, now: Any) -> None:
    # In the documented order: a bill's adjustments before its payments (sample bill 1044 was
    # partly paid, discounted, credited and written off).
    for base in ("clio-contacts", "clio-matters", "clio-bills", "caseledger-adjustments"):
        assert run(base, (SAMPLES / f"{base}.csv").read_bytes(), now)["errors"] == []
    result = run(source, (SAMPLES / f"{source}.csv").read_bytes(), now)
    assert (result["errors"], result["created"]) == ([], created)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("clio-payments", PAYMENTS_BAD),
        ("caseledger-payments", TEMPLATE_BAD),
        ("mycase-payments", MYCASE_BAD),
        ("clio-trust", TRUST_BAD),
    ],
)
def test_import_data_command_prints_the_json_line(
    source: str, bad: list[tuple[int, str]], now: Any, tmp_path: Path
) -> None:
    load_bills(now)
    path = tmp_path / f"{source}.csv"
    path.write_bytes(fixture(source))
    out = StringIO()
    call_command("import_data", "--source", source, str(path), "--dry-run", stdout=out)
    printed = json.loads(out.getvalue())
    assert set(printed) == {"rows", "valid", "errors", "created", "updated"}
    assert [(e["line"], e["rule"]) for e in printed["errors"]] == bad


def test_imported_invoices_page_shows_payment_history(
    now: Any, client: HttpClient, login: Any, users: dict[str, Any]
) -> None:
    load_bills(now)
    run("clio-payments", good("clio-payments", PAYMENTS_BAD), now)
    login(users["PARTNER"])
    page = client.get(reverse("imports:legacy_invoices")).content.decode()
    assert "Before the cutover" in page
    assert "$600.00" in page  # 2001: 400.00 + 200.00 before the cutover
    invoice = LegacyInvoice.objects.get(number="2001")
    detail = client.get(reverse("imports:legacy_invoice", args=[invoice.pk])).content.decode()
    assert "CHK-1001" in detail
    assert "EC-2002" in detail
    assert "$400.00" in detail  # open at cutover


def test_purge_scrubs_the_trust_and_payment_import_records(users: dict[str, Any], now: Any) -> None:
    from caseledger.imports import retention
    from caseledger.matters.models import Matter

    load_bills(now)
    run("clio-payments", good("clio-payments", PAYMENTS_BAD), now)
    run("clio-trust", good("clio-trust", TRUST_BAD), now)
    matter = Matter.objects.get(number="L-M-1")
    Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=date(2025, 6, 1))
    matter.refresh_from_db()
    retention.matter_purge(matter=matter, actor=users["ADMIN"], now=now.replace(year=2040))
    trust = ImportRecord.objects.get(kind="TRUST", key="M-1")
    assert trust.data["client"] != "Ingrid Halvorsen"
    paid = ImportRecord.objects.get(kind="PAYMENT", key="5001")
    assert paid.data["description"] != "Retainer applied"
    assert paid.data["amount_cents"] == 40000  # amounts stay
