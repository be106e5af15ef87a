"""The trust audit pack: journal, client ledgers, reconciliations with sign-offs, disbursement
approvals and deposits for one account and period, with a manifest that checks out."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.banking.models import Reconciliation
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.credits.tests import factories
from caseledger.imports.auditpack import AuditPackRefused, audit_pack
from caseledger.imports.export import manifest_check
from caseledger.ledger.models import Account
from caseledger.trust import services as trust

pytestmark = pytest.mark.django_db


def rows(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


def test_audit_pack_for_a_trust_account_and_period(
    users: dict[str, Any], now: Any, tmp_path: Path
) -> None:
    matter = factories.matter(partner=users["PARTNER"])
    early = trust.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        amount_cents=200_000,
        received_date=date(2026, 8, 10),
        reference="W-1",
        actor=users["BILLING"],
        now=now,
    )
    deposit = trust.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        amount_cents=300_000,
        received_date=date(2026, 10, 5),
        reference="W-2",
        actor=users["BILLING"],
        now=now,
    )
    request = trust.disbursement_request(
        matter=matter,
        payee="Courier Co",
        amount_cents=50_000,
        purpose="THIRD_PARTY",
        method="CHECK",
        reference="1001",
        actor=users["BILLING"],
        now=now,
    )
    trust.disbursement_approve(disbursement=request, approver=users["PARTNER"], now=now)
    trust.disbursement_post(disbursement=request, actor=users["BILLING"], now=now)
    bank = trust_bank_account(now)
    rec = Reconciliation.objects.create(
        bank_account=bank,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        status="SIGNED",
        report={},
        report_sha256="0" * 64,
        chain_hash="1" * 64,
        statement_balance_cents=450_000,
        adjusted_bank_cents=450_000,
        journal_cents=450_000,
        client_total_cents=450_000,
        is_balanced=True,
        prepared_by=users["BILLING"],
        prepared_at=now,
        signed_by=users["PARTNER"],
        signed_at=now,
        pdf=b"%PDF-1.4 archived October",
    )
    account = Account.objects.get(code="1010")
    with pytest.raises(AuditPackRefused, match="end: the period ends"):
        audit_pack(
            account=account,
            start=date(2026, 10, 31),
            end=date(2026, 10, 1),
            now=now,
            out=io.BytesIO(),
        )

    out = tmp_path / "pack.zip"
    stdout = StringIO()
    call_command(
        "audit_pack", str(out), start=date(2026, 10, 1), end=date(2026, 11, 30), stdout=stdout
    )
    assert json.loads(stdout.getvalue())["bytes"] == out.stat().st_size
    assert manifest_check(out) == []
    with zipfile.ZipFile(out) as zf:
        journal = rows(zf, "trust-journal.csv")
        assert journal[0]["memo"] == "Opening balance"
        assert journal[0]["balance"] == "2000.00"  # August's deposit, before the period
        # October's deposit, the disbursement posted on November 2
        assert [r["amount"] for r in journal[1:]] == ["3000.00", "-500.00"]
        assert journal[-1]["balance"] == "4500.00"
        balances = rows(zf, "client-balances.csv")
        assert [(b["matter"], b["opening"], b["in"], b["out"], b["closing"]) for b in balances] == [
            (matter.number, "2000.00", "3000.00", "500.00", "4500.00")
        ]
        ledger = rows(zf, "client-ledgers.csv")
        assert [r["memo"] for r in ledger][0] == "Opening"
        assert ledger[-1]["balance"] == "4500.00"
        recs = rows(zf, "reconciliations.csv")
        assert [(r["period_end"], r["status"], r["balanced"]) for r in recs] == [
            ("2026-10-31", "SIGNED", "yes")
        ]
        assert recs[0]["signed_by"]
        assert recs[0]["prepared_by"] != recs[0]["signed_by"]
        assert zf.read(recs[0]["pdf"]) == bytes(rec.pdf)
        disbursements = rows(zf, "disbursements.csv")
        assert [(d["number"], d["status"]) for d in disbursements] == [(request.number, "POSTED")]
        approvals = rows(zf, "disbursement-approvals.csv")
        assert [a["disbursement"] for a in approvals] == [request.number]
        deposits = rows(zf, "deposits.csv")
        assert [d["receipt"] for d in deposits] == [deposit.receipt_number]  # not August's
        assert early.receipt_number not in zf.read("deposits.csv").decode()
        assert zf.read(f"receipts/{deposit.receipt_number}.pdf").startswith(b"%PDF")
