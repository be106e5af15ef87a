"""The MyCase, Docketwise and PracticePanther sources: each reads its documented layout (the
fixture has that header row), reports its bad rows by line and rule, imports the rest, and a
rerun adds nothing. The shipped samples import cleanly."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.clients.models import Client
from caseledger.imports.forms import UploadForm
from caseledger.imports.models import ImportRecord, OpeningBalance
from caseledger.imports.sources import SOURCES
from caseledger.imports.tests.test_services import fixture, rules, run
from caseledger.matters.models import Matter

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent.parent / "samples"

NEW_SOURCES = (
    "mycase-contacts",
    "mycase-cases",
    "docketwise-contacts",
    "docketwise-matters",
    "practicepanther-contacts",
    "practicepanther-matters",
)

# (source, the bad rows as (line, rule), the good rows' count); matters: (contacts source,
# source, bad rows, good rows' count, opening trust balances among them)
CONTACTS = [
    ("mycase-contacts", [(5, "missing_required"), (6, "duplicate"), (7, "bad_value")], 3),
    ("docketwise-contacts", [(4, "missing_required"), (5, "bad_value"), (6, "duplicate")], 2),
    ("practicepanther-contacts", [(4, "duplicate"), (5, "missing_required"), (6, "bad_value")], 2),
]
MATTERS = [
    (
        "mycase-contacts",
        "mycase-cases",
        [(5, "bad_date"), (6, "missing_client"), (7, "missing_required")],
        3,
        0,
    ),
    (
        "docketwise-contacts",
        "docketwise-matters",
        [(4, "bad_date"), (5, "missing_client"), (6, "missing_required")],
        2,
        0,
    ),
    (
        "practicepanther-contacts",
        "practicepanther-matters",
        [(4, "bad_value"), (5, "bad_date"), (6, "duplicate")],
        2,
        1,  # PracticePanther's project trustBalance: 3001 holds 2500.00
    ),
]


def good(name: str, bad: list[tuple[int, str]]) -> bytes:
    return fixture(name, drop=tuple(line for line, _ in bad))


def load_contacts(source: str, now: Any) -> None:
    bad = next(b for s, b, _ in CONTACTS if s == source)
    assert run(source, good(source, bad), now)["errors"] == []


@pytest.mark.parametrize(("source", "bad", "count"), CONTACTS)
def test_contacts_bad_rows_then_import_then_rerun_adds_nothing(
    source: str, bad: list[tuple[int, str]], count: int, now: Any
) -> None:
    result = run(source, fixture(source), now, dry=True)
    assert rules(result) == bad
    assert all(e["message"] for e in result["errors"])
    assert Client.objects.count() == 0
    first = run(source, good(source, bad), now)
    assert (first["errors"], first["created"]) == ([], count)
    again = run(source, good(source, bad), now)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, count)
    assert Client.objects.count() == count
    assert ImportRecord.objects.filter(source=source).count() == count


@pytest.mark.parametrize(("contacts", "source", "bad", "count", "trust"), MATTERS)
def test_matters_bad_rows_then_import_then_rerun_adds_nothing(
    contacts: str, source: str, bad: list[tuple[int, str]], count: int, trust: int, now: Any
) -> None:
    load_contacts(contacts, now)
    result = run(source, fixture(source), now, dry=True)
    assert rules(result) == bad
    assert Matter.objects.count() == 0
    first = run(source, good(source, bad), now)
    assert (first["errors"], first["created"]) == ([], count + trust)
    again = run(source, good(source, bad), now)
    assert (again["created"], again["unchanged"]) == (0, count + trust)
    assert Matter.objects.count() == count
    assert OpeningBalance.objects.filter(kind="TRUST").count() == trust


def test_mycase_layout_person_with_employer_and_closed_case(now: Any) -> None:
    load_contacts("mycase-contacts", now)
    menon = Client.objects.get(email="rahul.menon@example.com")
    assert (menon.name, menon.kind) == ("Rahul Menon", "PERSON")  # not named after his employer
    assert menon.client_type == "PRIVATE"
    company = Client.objects.get(name="Gulf Coast Biotech LLC")
    assert (company.kind, company.postal_code) == ("COMPANY", "77002")
    # A company is a corporate client (the cohorts split private from corporate on it).
    assert company.client_type == "CORPORATE"
    run("mycase-cases", good("mycase-cases", MATTERS[0][2]), now)
    ead = Matter.objects.get(number="L-MC-2240")
    assert ead.title == "Menon - EAD renewal"
    assert (ead.opened_date, ead.closed_date) == (date(2024, 8, 19), date(2024, 11, 27))
    assert ead.client == menon


def test_docketwise_layout_company_client_by_company_name(now: Any) -> None:
    load_contacts("docketwise-contacts", now)
    assert Client.objects.get(name="Lucía Ramírez").phone == "305-555-0119"
    run("docketwise-matters", good("docketwise-matters", MATTERS[1][2]), now)
    h2b = Matter.objects.get(number="L-DW-5102")
    assert h2b.client.name == "Everglades Hospitality Group"
    assert h2b.opened_date == date(2025, 2, 4)


def test_practicepanther_layout_account_number_key_and_archived_is_closed(now: Any) -> None:
    load_contacts("practicepanther-contacts", now)
    record = ImportRecord.objects.get(source="practicepanther-contacts", key="1002")
    assert Client.objects.get(pk=record.object_id).name == "Lakeshore Logistics Inc."
    run("practicepanther-matters", good("practicepanther-matters", MATTERS[2][2]), now)
    archived = Matter.objects.get(number="L-3003")
    assert archived.closed_date == date(2024, 9, 30)
    assert Matter.objects.get(number="L-3001").closed_date is None
    # The project's Trust Balance is its opening trust balance (a TRUST record, as the
    # CaseLedger template's trust_balance makes), for the cutover proof; 0.00 makes none.
    trust = OpeningBalance.objects.get(kind="TRUST")
    assert (trust.matter.number, trust.client.name) == ("L-3001", "Oksana Kovalenko")
    assert trust.amount_cents == 250000


@pytest.mark.parametrize(
    ("contacts", "matters"),
    [
        ("mycase-contacts", "mycase-cases"),
        ("docketwise-contacts", "docketwise-matters"),
        ("practicepanther-contacts", "practicepanther-matters"),
    ],
)
def test_shipped_samples_import_cleanly(contacts: str, matters: str, now: Any) -> None:
    for source in (contacts, matters):
        result = run(source, (SAMPLES / f"{source}.csv").read_bytes(), now)
        assert result["errors"] == []
        # PracticePanther's sample project 3001 holds trust: its opening trust balance too.
        assert result["created"] == (4 if source == "practicepanther-matters" else 3)


def test_wizard_and_command_list_the_new_sources(now: Any, tmp_path: Path) -> None:
    choices = dict(UploadForm().fields["source"].choices)  # type: ignore[attr-defined]
    for code in NEW_SOURCES:
        assert code in SOURCES
        assert choices[code] == SOURCES[code].label
    path = tmp_path / "contacts.csv"
    path.write_bytes(fixture("docketwise-contacts"))
    out = StringIO()
    call_command(
        "import_data", "--source", "docketwise-contacts", str(path), "--dry-run", stdout=out
    )
    result = json.loads(out.getvalue())
    assert [(e["line"], e["rule"]) for e in result["errors"]] == CONTACTS[1][1]
