from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.banking.tests.factories import trust_bank_account
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core.models import AuditEvent
from caseledger.imports import services
from caseledger.imports.choices import JobStatus, RecordKind
from caseledger.imports.exceptions import CutoverRefused
from caseledger.imports.models import (
    ImportRecord,
    LegacyActivity,
    LegacyInvoice,
    OpeningBalance,
)
from caseledger.ledger.models import JournalEntry
from caseledger.matters.models import Matter, StageEvent

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str, drop: tuple[int, ...] = ()) -> bytes:
    """The fixture file, without the given physical lines (1 = header)."""
    lines = (FIXTURES / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    return ("\n".join(x for i, x in enumerate(lines, start=1) if i not in drop) + "\n").encode()


def run(source: str, data: bytes, now: Any, *, dry: bool = False, update: bool = False) -> dict:
    return services.import_file(
        source=source,
        data=data,
        filename=f"{source}.csv",
        mapping=None,
        dry=dry,
        actor=None,
        now=now,
        consent_updates=update,
    )


def rules(result: dict) -> list[tuple[int, str]]:
    return [(e["line"], e["rule"]) for e in result["errors"]]


def load_base(now: Any) -> None:
    assert run("clio-contacts", fixture("clio-contacts", drop=(4, 5, 6)), now)["errors"] == []
    assert run("clio-matters", fixture("clio-matters", drop=(4, 5)), now)["errors"] == []


def test_clio_contacts_bad_rows_reported_and_dry_run_writes_nothing(now: Any) -> None:
    result = run("clio-contacts", fixture("clio-contacts"), now, dry=True)
    assert rules(result) == [(4, "missing_required"), (5, "duplicate"), (6, "bad_value")]
    assert result["rows"] == 5
    assert result["valid"] == 2
    assert result["created"] == 2
    assert Client.objects.count() == 0
    assert ImportRecord.objects.count() == 0


def test_file_with_problems_is_not_committed(now: Any) -> None:
    result = run("clio-contacts", fixture("clio-contacts"), now)
    assert result["errors"]
    assert Client.objects.count() == 0


def test_rerun_changes_nothing_and_changed_rows_need_consent(now: Any) -> None:
    good = fixture("clio-contacts", drop=(4, 5, 6))
    first = run("clio-contacts", good, now)
    assert (first["created"], first["updated"]) == (2, 0)
    events = AuditEvent.objects.count()
    again = run("clio-contacts", good, now)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert Client.objects.count() == 2
    assert AuditEvent.objects.count() > events
    changed = good.replace(b"617-555-0142", b"617-555-9999")
    shown = run("clio-contacts", changed, now)
    assert shown["updated"] == 0
    assert shown["changed"][0]["diff"] == {"phone": ["617-555-0142", "617-555-9999"]}
    assert Client.objects.get(name="Ingrid Halvorsen").phone == "617-555-0142"
    applied = run("clio-contacts", changed, now, update=True)
    assert applied["updated"] == 1
    assert Client.objects.get(name="Ingrid Halvorsen").phone == "617-555-9999"


def test_clio_matters_are_history_no_billing_no_stage_events(now: Any) -> None:
    run("clio-contacts", fixture("clio-contacts", drop=(4, 5, 6)), now)
    result = run("clio-matters", fixture("clio-matters"), now, dry=True)
    assert rules(result) == [(4, "bad_date"), (5, "missing_client")]
    result = run("clio-matters", fixture("clio-matters", drop=(4, 5)), now)
    assert result["created"] == 2
    matter = Matter.objects.get(number="L-M-1")
    assert matter.opened_date == date(2025, 3, 14)
    assert matter.title == "Naturalization application"
    assert not StageEvent.objects.exists()
    assert not Invoice.objects.exists()


def test_clio_activities_unknown_matter_and_non_ascii_digits(now: Any) -> None:
    load_base(now)
    result = run("clio-activities", fixture("clio-activities"), now, dry=True)
    assert rules(result) == [(4, "unknown_matter"), (5, "bad_amount")]
    result = run("clio-activities", fixture("clio-activities", drop=(4, 5)), now)
    assert result["created"] == 2
    time = LegacyActivity.objects.get(kind="TIME")
    assert (time.rate_cents, time.amount_cents) == (35000, 52500)


def test_clio_bills_keep_numbers_lines_must_sum(now: Any) -> None:
    load_base(now)
    result = run("clio-bills", fixture("clio-bills"), now, dry=True)
    assert rules(result) == [(4, "lines_not_sum"), (5, "bad_amount")]
    result = run("clio-bills", fixture("clio-bills", drop=(4, 5)), now)
    assert result["created"] == 1
    invoice = LegacyInvoice.objects.get()
    assert str(invoice) == "L-1042"
    assert invoice.issue_date == date(2025, 4, 1)
    assert (invoice.total_cents, invoice.balance_cents) == (148500, 76000)
    assert [line.category for line in invoice.lines.order_by("position")] == [
        "fees",
        "government_fees",
    ]
    assert not Invoice.objects.exists()  # billing's numbering and reminders never see it


def test_quickbooks_customers(now: Any) -> None:
    qbd = run("qbd-customers", fixture("qbd-customers"), now, dry=True)
    assert rules(qbd) == [(4, "duplicate")]
    qbd = run("qbd-customers", fixture("qbd-customers", drop=(4,)), now)
    assert qbd["created"] == 2
    assert Client.objects.get(name="Acme Staffing").kind == "COMPANY"
    qbo = run("qbo-customers", fixture("qbo-customers"), now, dry=True)
    assert rules(qbo) == [(4, "missing_required")]
    qbo = run("qbo-customers", fixture("qbo-customers", drop=(4,)), now)
    assert qbo["created"] == 2
    assert Client.objects.get(name="Globex Corp").city == "Denver"


def test_caseledger_template_and_cutover_proof(now: Any, users: dict[str, Any]) -> None:
    result = run("caseledger", fixture("caseledger"), now, dry=True)
    assert rules(result) == [(5, "bad_date")]
    result = run("caseledger", fixture("caseledger", drop=(5,)), now)
    assert result["errors"] == []
    assert Client.objects.count() == 2
    assert Matter.objects.count() == 3
    assert OpeningBalance.objects.filter(kind="TRUST").count() == 3
    partner = users["PARTNER"]
    trust_bank_account(now)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=390000,
        aging_total_cents=0,
        actor=partner,
        now=now,
    )
    with pytest.raises(CutoverRefused, match="trust_bank: imported trust balances sum to"):
        services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    assert not JournalEntry.objects.exists()
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=400000,
        aging_total_cents=100,
        actor=partner,
        now=now,
    )
    with pytest.raises(CutoverRefused, match="aging_total"):
        services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=400000,
        aging_total_cents=0,
        actor=partner,
        now=now,
    )
    done = services.cutover_finalize(cutover=cutover, actor=partner, now=now)
    assert done.status == "FINALIZED"
    assert len(done.entries) == 2
    for entry in JournalEntry.objects.all():
        assert sum(p.amount_cents for p in entry.postings.all()) == 0
        assert entry.kind == "OPENING_BALANCE"
    assert AuditEvent.objects.filter(action="imports.cutover_finalized").exists()
    changed = fixture("caseledger", drop=(5,)).replace(b"1500.00", b"1600.00")
    late = run("caseledger", changed, now, update=True)
    assert late["errors"][0]["rule"] == "refused"  # history is frozen after finalize


def test_cutover_refuses_negative_client_ledger(now: Any, users: dict[str, Any]) -> None:
    run("caseledger", fixture("caseledger", drop=(5,)), now)
    OpeningBalance.objects.filter(matter__number="L-T-2").update(amount_cents=-50000)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=300000,
        aging_total_cents=0,
        actor=users["PARTNER"],
        now=now,
    )
    with pytest.raises(CutoverRefused, match="negative trust balance"):
        services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)


def test_crash_mid_import_then_resume(now: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "\n".join(f"{100 + i},Client {i},,,,,,client{i}@example.com" for i in range(7))
    data = ("REFNUM,NAME,COMPANYNAME,FIRSTNAME,LASTNAME,BADDR1,PHONE1,EMAIL\n" + rows).encode()
    job = services.job_create(
        source="qbd-customers", filename="big.csv", data=data, mapping=None, actor=None, now=now
    )
    services.job_dry_run(job=job, actor=None, now=now)
    real = services._bulk_clients
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> list[int | None]:
        calls["n"] += 1
        written = real(*args, **kwargs)
        if calls["n"] == 2:
            raise RuntimeError("power cut")  # after the second batch's clients went in
        return written

    monkeypatch.setitem(services._BULK_WRITERS, RecordKind.CLIENT, crashing)
    with pytest.raises(RuntimeError, match="power cut"):
        services.job_run(job=job, actor=None, now=now, batch_size=3)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.processed_units == 3
    assert Client.objects.count() == 3  # the first batch; the second rolled back whole
    monkeypatch.setitem(services._BULK_WRITERS, RecordKind.CLIENT, real)
    job = services.job_run(job=job, actor=None, now=now, batch_size=3)
    assert job.status == JobStatus.DONE
    assert (job.processed_units, job.created) == (7, 7)
    assert Client.objects.count() == 7
    assert ImportRecord.objects.filter(source="qbd-customers").count() == 7


def test_import_data_command_prints_one_json_line(now: Any, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(fixture("clio-contacts"))
    out = StringIO()
    call_command("import_data", "--source", "clio-contacts", str(path), "--dry-run", stdout=out)
    result = json.loads(out.getvalue().strip())
    assert set(result) == {"rows", "valid", "errors", "created", "updated"}
    assert result["rows"] == 5
    assert result["valid"] == 2
    assert [(e["line"], e["rule"]) for e in result["errors"]][0] == (4, "missing_required")
    path.write_bytes(fixture("clio-contacts", drop=(4, 5, 6)))
    out = StringIO()
    call_command("import_data", "--source", "clio-contacts", str(path), stdout=out)
    assert json.loads(out.getvalue())["created"] == 2


def test_saved_mapping_is_used(now: Any) -> None:
    renamed = fixture("qbo-customers", drop=(4,)).replace(b"Full Name", b"Customer")
    services.mapping_save(
        name="Our QBO",
        source="qbo-customers",
        columns={"name": "Customer", "email": "Email"},
        defaults={"client_type": "CORPORATE"},
        actor=None,
        now=now,
    )
    from caseledger.imports.models import ImportMapping

    result = services.import_file(
        source="qbo-customers",
        data=renamed,
        filename="x.csv",
        mapping=ImportMapping.objects.get(name="Our QBO"),
        dry=False,
        actor=None,
        now=now,
    )
    assert result["created"] == 2
    assert Client.objects.get(name="Lee Chen").client_type == "CORPORATE"


def test_firm_invoice_format_cannot_enter_the_legacy_range() -> None:
    from caseledger.core.forms import LEGACY_INVOICE_PREFIX, FirmSettingsForm
    from caseledger.imports.models import LEGACY_PREFIX

    assert LEGACY_INVOICE_PREFIX == LEGACY_PREFIX
    form = FirmSettingsForm(data={"invoice_number_format": "L-{seq}"})
    form.is_valid()
    assert "may not start with" in str(form.errors.get("invoice_number_format"))
