"""Credit notes, write-offs and discounts the old system applied before the cutover
(``caseledger-adjustments``): each row is checked and reported by line and rule, the rest is kept
against its imported invoice as history (never posted, never a credits.CreditNote or WriteOff),
a rerun adds nothing, and a bill's payments + adjustments + balance at cutover must equal its
total, so a bill with a write-off can now have its payments imported."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from caseledger.credits.models import CreditNote, WriteOff
from caseledger.imports import services
from caseledger.imports.forms import UploadForm
from caseledger.imports.models import (
    ImportJob,
    ImportMapping,
    ImportRecord,
    LegacyHistoryAdjustment,
    LegacyHistoryPayment,
    LegacyInvoice,
)
from caseledger.imports.selectors import sample_names
from caseledger.imports.sources import SOURCES
from caseledger.imports.tests.test_services import fixture, load_base, rules, run
from caseledger.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent.parent / "samples"
SOURCE = "caseledger-adjustments"

ADJUSTMENTS_BAD = [
    (7, "unknown_invoice"),  # bill 9999 was never imported
    (8, "bad_date"),  # 2025-02-30
    (9, "bad_value"),  # kind REFUND
    (10, "bad_amount"),  # 1O.00 (a letter O)
    (11, "bad_amount"),  # 0.00
    (12, "duplicate"),  # adjustment key A-2 again
    (13, "missing_required"),  # no kind
]
# Bills 3001-3003 (clio-bills-adjusted): 3001 1000.00 with 300.00 open, 3002 800.00 with none
# open, 3003 600.00 with 100.00 open.
PAYMENTS = b"id,date,amount,bill_number\n6001,2025-04-10,500.00,3001\n"


def load_bills(now: Any) -> None:
    load_base(now)
    assert run("clio-bills", fixture("clio-bills-adjusted"), now)["errors"] == []


def good() -> bytes:
    return fixture(SOURCE, drop=tuple(line for line, _ in ADJUSTMENTS_BAD))


def test_bad_rows_then_import_then_rerun_adds_nothing(now: Any) -> None:
    load_bills(now)
    entries = JournalEntry.objects.count()
    result = run(SOURCE, fixture(SOURCE), now, dry=True)
    assert rules(result) == ADJUSTMENTS_BAD
    messages = [e["message"] for e in result["errors"]]
    assert "9999" in messages[0]
    assert messages[2] == "kind: must be one of CREDIT_NOTE, WRITE_OFF, DISCOUNT (got 'REFUND')"
    assert "more than zero" in messages[4]
    assert "first on line 3" in messages[5]
    assert messages[6] == "kind: required (column 'kind' is empty)"
    assert not LegacyHistoryAdjustment.objects.exists()
    first = run(SOURCE, good(), now)
    assert (first["errors"], first["created"], first["rows"]) == ([], 5, 5)
    again = run(SOURCE, good(), now)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert LegacyHistoryAdjustment.objects.count() == 5
    assert ImportRecord.objects.filter(kind="ADJUSTMENT", source=SOURCE).count() == 5
    kinds = {
        a.key: (a.invoice.number, a.kind, a.amount_cents, a.adjustment_date)
        for a in LegacyHistoryAdjustment.objects.all()
    }
    assert kinds == {
        "A-1": ("3001", "WRITE_OFF", 20000, date(2025, 4, 30)),
        "A-2": ("3002", "CREDIT_NOTE", 10000, date(2025, 4, 12)),
        "A-3": ("3002", "DISCOUNT", 5000, date(2025, 4, 15)),  # "Discount" in words
        "A-4": ("3002", "WRITE_OFF", 65000, date(2025, 5, 20)),  # "write-off"
        "A-5": ("3003", "WRITE_OFF", 15000, date(2025, 4, 18)),
    }
    assert LegacyHistoryAdjustment.objects.get(key="A-2").reason == "Duplicate translation charge"
    # History only: no journal entry, no CaseLedger credit note or write-off, no email; the
    # invoices' balances stay as imported.
    assert JournalEntry.objects.count() == entries
    assert not CreditNote.objects.exists()
    assert not WriteOff.objects.exists()
    assert mail.outbox == []
    invoice = LegacyInvoice.objects.get(number="3001")
    assert (invoice.balance_cents, invoice.paid_cents) == (30000, 0)


def test_changed_adjustment_needs_consent_and_updates_the_same_record(now: Any) -> None:
    load_bills(now)
    run(SOURCE, good(), now)
    changed = good().replace(b"Courtesy discount", b"Courtesy discount (loyal client)")
    shown = run(SOURCE, changed, now)
    assert (shown["created"], shown["updated"]) == (0, 0)
    assert shown["changed"][0]["key"] == "A-3"
    assert shown["changed"][0]["diff"] == {
        "reason": ["Courtesy discount", "Courtesy discount (loyal client)"]
    }
    assert LegacyHistoryAdjustment.objects.get(key="A-3").reason == "Courtesy discount"
    applied = run(SOURCE, changed, now, update=True)
    assert applied["updated"] == 1
    assert LegacyHistoryAdjustment.objects.get(key="A-3").reason == (
        "Courtesy discount (loyal client)"
    )
    assert LegacyHistoryAdjustment.objects.count() == 5


def test_payment_and_write_off_and_balance_that_sum_now_import(now: Any) -> None:
    load_bills(now)
    # Before the write-off is in, bill 3001's payment and balance fall short of its total ...
    early = run("clio-payments", PAYMENTS, now, dry=True)
    assert rules(early) == [(2, "payments_not_sum")]
    assert early["errors"][0]["message"] == (
        "amount: bill 3001's payments before the cutover sum to $500.00 and its adjustments "
        "(credit notes, write-offs, discounts) to $0.00 (lines 2), and its balance at cutover is "
        "$300.00: together $800.00, but its total is $1,000.00; a credit note, write-off or "
        "discount of the old system is imported before the bill's payments "
        "(caseledger-adjustments)"
    )
    # ... with it: 500.00 paid + 200.00 written off + 300.00 open = 1,000.00.
    assert run(SOURCE, good(), now)["errors"] == []
    paid = run("clio-payments", PAYMENTS, now)
    assert (paid["errors"], paid["created"]) == ([], 1)
    assert LegacyHistoryPayment.objects.get(key="6001").invoice.number == "3001"


def test_payment_and_write_off_that_do_not_sum_are_refused(now: Any) -> None:
    load_bills(now)
    assert run(SOURCE, good(), now)["errors"] == []
    # 3003: 300.00 paid + 150.00 written off + 100.00 open is 550.00, not its 600.00.
    short = b"id,date,amount,bill_number\n6002,2025-04-11,300.00,3003\n"
    result = run("clio-payments", short, now)
    assert rules(result) == [(2, "payments_not_sum")]
    message = result["errors"][0]["message"]
    assert message.startswith(
        "amount: bill 3003's payments before the cutover sum to $300.00 and its adjustments "
        "(credit notes, write-offs, discounts) to $150.00 (lines 2, and 1 imported before), and "
        "its balance at cutover is $100.00: together $550.00, but its total is $600.00"
    )
    assert not LegacyHistoryPayment.objects.exists()


def test_adjustments_never_exceed_the_total_and_add_up_once_payments_are_in(now: Any) -> None:
    load_bills(now)
    # No payment imported: the adjustments may leave room for payments, not go past the total.
    over = b"bill_number,adjustment_date,kind,amount\n3003,04/18/2025,WRITE_OFF,500.01\n"
    result = run(SOURCE, over, now, dry=True)
    assert rules(result) == [(2, "payments_not_sum")]
    assert result["errors"][0]["message"] == (
        "amount: bill 3003's adjustments (credit notes, write-offs, discounts) before the cutover "
        "sum to $500.01 and its payments to $0.00 (lines 2), and its balance at cutover is "
        "$100.00: together $600.01, more than its total $600.00"
    )
    # 3003 paid in full in the old system (500.00 + 100.00 open): its payments add up alone, and
    # a later adjustment of it must add up with them (the payments are complete).
    full = b"id,date,amount,bill_number\n6003,2025-04-11,500.00,3003\n"
    assert run("clio-payments", full, now)["created"] == 1
    late = b"bill_number,adjustment_date,kind,amount\n3003,04/18/2025,WRITE_OFF,10.00\n"
    result = run(SOURCE, late, now, dry=True)
    assert rules(result) == [(2, "payments_not_sum")]
    assert "together $610.00, but its total is $600.00" in result["errors"][0]["message"]
    assert "and 1 imported before" in result["errors"][0]["message"]


def test_adjustment_on_or_after_the_cutover_date_is_not_history(
    now: Any, users: dict[str, Any]
) -> None:
    load_bills(now)
    services.cutover_save(
        as_of=date(2025, 5, 1),
        trust_bank_cents=0,
        aging_total_cents=40000,
        actor=users["PARTNER"],
        now=now,
    )
    result = run(SOURCE, good(), now, dry=True)
    assert rules(result) == [(5, "bad_date")]  # A-4 was written off 2025-05-20
    assert result["errors"][0]["message"] == (
        "date: 2025-05-20 is on or after the cutover date 2025-05-01; only the credit notes, "
        "write-offs and discounts the old system applied before the cutover are imported as "
        "history"
    )


def test_adjustments_frozen_once_the_cutover_is_finalized(now: Any, users: dict[str, Any]) -> None:
    load_bills(now)
    partner = users["PARTNER"]
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30), trust_bank_cents=0, aging_total_cents=40000, actor=partner, now=now
    )
    services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    result = run(SOURCE, good(), now, dry=True)
    assert {rule for _, rule in rules(result)} == {"refused"}
    assert not LegacyHistoryAdjustment.objects.exists()


def test_import_data_command_prints_the_json_line(now: Any, tmp_path: Path) -> None:
    load_bills(now)
    path = tmp_path / f"{SOURCE}.csv"
    path.write_bytes(fixture(SOURCE))
    out = StringIO()
    call_command("import_data", "--source", SOURCE, str(path), "--dry-run", stdout=out)
    printed = json.loads(out.getvalue())
    assert [(e["line"], e["rule"]) for e in printed["errors"]] == ADJUSTMENTS_BAD
    path.write_bytes(good())
    out = StringIO()
    call_command("import_data", "--source", SOURCE, str(path), stdout=out)
    assert json.loads(out.getvalue())["created"] == 5


def test_sample_is_listed_offered_and_imports_cleanly(now: Any) -> None:
    assert SOURCE in sample_names()
    choices = dict(UploadForm().fields["source"].choices)  # type: ignore[attr-defined]
    assert choices[SOURCE] == SOURCES[SOURCE].label
    for base in ("clio-contacts", "clio-matters", "clio-bills"):
        assert run(base, (SAMPLES / f"{base}.csv").read_bytes(), now)["errors"] == []
    result = run(SOURCE, (SAMPLES / f"{SOURCE}.csv").read_bytes(), now)
    assert (result["errors"], result["created"]) == ([], 3)
    # Bill 1044: 250.00 paid + 50.00 + 75.00 + 75.00 adjusted + 0.00 open = 450.00.
    paid = run("caseledger-payments", (SAMPLES / "caseledger-payments.csv").read_bytes(), now)
    assert (paid["errors"], paid["created"]) == ([], 3)


def test_wizard_offers_the_sample_and_imports_it_with_the_shipped_mapping(
    now: Any,
    client: HttpClient,
    login: Any,
    users: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    for base in ("clio-contacts", "clio-matters", "clio-bills"):
        assert run(base, (SAMPLES / f"{base}.csv").read_bytes(), now)["errors"] == []
    login(users["BILLING"])
    assert f"{SOURCE}.csv".encode() in client.get(reverse("imports:home")).content
    sample = client.get(reverse("imports:sample", args=[SOURCE]))
    assert sample.content == (SAMPLES / f"{SOURCE}.csv").read_bytes()
    upload = SimpleUploadedFile(f"{SOURCE}.csv", sample.content, content_type="text/csv")
    response = client.post(reverse("imports:home"), {"source": SOURCE, "file": upload})
    job = ImportJob.objects.get(source=SOURCE)
    mapping_page = reverse("imports:job_map", args=[job.pk])
    assert (response.status_code, response["Location"]) == (302, mapping_page)
    assert job.columns == SOURCES[SOURCE].columns  # the shipped mapping
    assert ImportMapping.objects.get(name=SOURCE).shipped
    page = client.get(mapping_page).content.decode()
    assert "Kind (CREDIT_NOTE, WRITE_OFF or DISCOUNT) *" in page
    data = {f"col_{k}": v for k, v in job.columns.items()}
    assert client.post(reverse("imports:job_map", args=[job.pk]), data).status_code == 302
    client.post(reverse("imports:job_dry_run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.report["created"], job.report["errors"]) == ("VALIDATED", 3, [])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job_commit", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created) == ("DONE", 3)
    assert LegacyHistoryAdjustment.objects.filter(invoice__number="1044").count() == 3


def test_imported_invoice_pages_show_the_adjustments(
    now: Any, client: HttpClient, login: Any, users: dict[str, Any]
) -> None:
    load_bills(now)
    run(SOURCE, good(), now)
    run("clio-payments", PAYMENTS, now)
    login(users["PARTNER"])
    page = client.get(reverse("imports:legacy_invoices")).content.decode()
    assert "Before the cutover" in page
    assert '<th class="num">Adjusted</th>' in page
    row = page[page.index("L-3002") :].split("</tr>")[0]
    # 3002: total 800.00, paid before 0.00, adjusted before 800.00, open at cutover 0.00
    assert [cell.split(">")[-1] for cell in row.split("</td>")[5:11]] == [
        "$800.00",
        "$0.00",
        "$800.00",
        "$0.00",
        "$0.00",
        "$0.00",
    ]
    invoice = LegacyInvoice.objects.get(number="3001")
    detail = client.get(reverse("imports:legacy_invoice", args=[invoice.pk])).content.decode()
    assert "Credit notes, write-offs and discounts before cutover" in detail
    assert "Write-off" in detail
    assert "Uncollectible remainder (partner approved)" in detail
    assert "<dt>Adjusted before cutover</dt><dd>$200.00</dd>" in detail
    assert "<dt>Paid before cutover</dt><dd>$500.00</dd>" in detail
    assert "<dt>Open at cutover</dt><dd>$300.00</dd>" in detail


def test_purge_scrubs_the_adjustment_import_records(users: dict[str, Any], now: Any) -> None:
    from caseledger.imports import retention
    from caseledger.matters.models import Matter

    load_bills(now)
    reasoned = (
        b"bill_number,adjustment_date,kind,amount,reason,adjustment_key\n"
        b"3001,04/30/2025,WRITE_OFF,200.00,Ingrid Halvorsen cannot pay,A-1\n"
    )
    assert run(SOURCE, reasoned, now)["errors"] == []
    matter = Matter.objects.get(number="L-M-1")
    Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=date(2025, 6, 1))
    matter.refresh_from_db()
    retention.matter_purge(matter=matter, actor=users["ADMIN"], now=now.replace(year=2040))
    record = ImportRecord.objects.get(kind="ADJUSTMENT", key="A-1")
    assert "Ingrid Halvorsen" not in record.data["reason"]
    assert record.data["amount_cents"] == 20000  # amounts stay
