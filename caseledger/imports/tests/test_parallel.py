"""The parallel run: the old system's invoices of a cycle against CaseLedger's, per matter and
line category, with a seeded difference; CSV; partner sign-off."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from caseledger.billing.tests.factories import approved_draft, build_world
from caseledger.core.models import AuditEvent
from caseledger.imports import parallel
from caseledger.imports.parallel import ParallelRunRefused

pytestmark = pytest.mark.django_db


def test_parallel_run_reports_missing_extra_and_differences(
    users: dict[str, Any], now: Any
) -> None:
    world = build_world(users)
    draft = approved_draft(world)
    lines = list(draft.lines.values_list("kind", "amount_cents"))
    fees = sum(c for k, c in lines if parallel.KIND_CATEGORY[k] == "fees")
    gov = sum(c for k, c in lines if parallel.KIND_CATEGORY[k] == "government_fees")
    assert fees
    assert gov
    number = draft.matter.number
    # The old system billed the same matter with fees 50.00 higher (the seeded difference),
    # and billed a matter CaseLedger did not.
    old = (
        "number,matter,line_type,line_total\n"
        f"9001,{number},fees,{(fees + 5000) / 100:.2f}\n"
        f"9001,{number},government_fees,{gov / 100:.2f}\n"
        "9002,OLD-77,expenses,25.00\n"
    )
    with pytest.raises(ParallelRunRefused, match="cycle_end"):
        parallel.parallel_run_create(
            cycle_start=date(2026, 11, 30),
            cycle_end=date(2026, 11, 1),
            filename="old.csv",
            data=old.encode(),
            actor=users["PARTNER"],
            now=now,
        )
    with pytest.raises(ParallelRunRefused, match="line 2: line_type 'retainer'"):
        parallel.parallel_run_create(
            cycle_start=date(2026, 11, 1),
            cycle_end=date(2026, 11, 30),
            filename="old.csv",
            data=old.replace(",fees,", ",retainer,", 1).encode(),
            actor=users["PARTNER"],
            now=now,
        )
    run = parallel.parallel_run_create(
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
        filename="old.csv",
        data=old.encode(),
        actor=users["PARTNER"],
        now=now,
    )
    rows = parallel.parallel_compare(run)
    assert [(m.matter, m.status) for m in rows] == [("OLD-77", "missing"), (number, "differs")]
    differs = rows[1]
    assert differs.differences == {
        "fees": -5000,
        "government_fees": 0,
        "expenses": 0,
        "tax": 0,
    }
    table = list(csv.DictReader(io.StringIO(parallel.parallel_csv(rows))))
    assert table[1]["fees_difference"] == "-50.00"
    assert table[0]["expenses_old"] == "25.00"
    # Without the old file's matter, CaseLedger's draft is extra.
    only_old = parallel.parallel_run_create(
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
        filename="old.csv",
        data=b"number,matter,line_type,line_total\n9002,OLD-77,expenses,25.00\n",
        actor=users["PARTNER"],
        now=now,
    )
    assert [m.status for m in parallel.parallel_compare(only_old)] == ["missing", "extra"]

    with pytest.raises(ParallelRunRefused, match="signer: only a partner"):
        parallel.parallel_run_sign(run=run, actor=users["BILLING"], note="", now=now)
    signed = parallel.parallel_run_sign(
        run=run, actor=users["PARTNER"], note="OLD-77 billed by mistake", now=now
    )
    assert signed.signed_result["counts"] == {"missing": 1, "differs": 1}
    assert AuditEvent.objects.filter(action="imports.parallel_run_signed").count() == 1
    with pytest.raises(ParallelRunRefused, match="run: signed off on"):
        parallel.parallel_run_sign(run=run, actor=users["PARTNER"], note="", now=now)
