"""``manage.py import_statement``: one JSON line per statement; refusals exit 1 with an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.banking.models import StatementLine
from caseledger.banking.tests.factories import FIXTURES, operating_bank_account, trust_bank_account

pytestmark = pytest.mark.django_db

KEYS = [
    "format",
    "account",
    "currency",
    "opening_cents",
    "closing_cents",
    "entries",
    "credits_cents",
    "debits_cents",
]


def _run(capsys: Any, *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = 0
    try:
        call_command("import_statement", *args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def test_dry_run_needs_no_account_and_stores_nothing(capsys: Any) -> None:
    code, lines = _run(capsys, str(FIXTURES / "mt940_two_statements.sta"), "--dry-run")
    assert code == 0
    assert [list(line) for line in lines] == [KEYS, KEYS]
    assert lines[1] == {
        "format": "MT940",
        "account": "121000248/4400987654",
        "currency": "USD",
        "opening_cents": 2_250_000,
        "closing_cents": 2_367_000,
        "entries": 3,
        "credits_cents": 120_000,
        "debits_cents": 3_000,
    }
    assert not StatementLine.objects.exists()


def test_import_into_account(capsys: Any, now: Any) -> None:
    account = operating_bank_account(now)
    code, lines = _run(
        capsys, str(FIXTURES / "bai2_continuation.bai"), "--account", str(account.pk)
    )
    assert code == 0
    assert lines == [
        {
            "format": "BAI2",
            "account": "••••7654",
            "currency": "USD",
            "opening_cents": 2_000_000,
            "closing_cents": 2_367_000,
            "entries": 4,
            "credits_cents": 520_000,
            "debits_cents": 153_000,
        }
    ]
    assert StatementLine.objects.count() == 4


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["camt053_unbalanced.xml", "--dry-run"], "balance: statement STMT-BAD does not balance"),
        (["mt942_intraday.sta", "--dry-run"], "file: an intraday report (MT942)"),
        (["ofx2_operating.ofx"], "account: --account ID is required unless --dry-run"),
        (["ofx2_operating.ofx", "--account", "999"], "account: no bank account with id 999"),
        (["missing.ofx", "--dry-run"], "file: cannot read"),
    ],
)
def test_refusals_exit_1_with_error(capsys: Any, args: list[str], error: str) -> None:
    code, lines = _run(capsys, str(FIXTURES / args[0]), *args[1:])
    assert code == 1
    assert len(lines) == 1
    assert list(lines[0]) == ["error"]
    assert lines[0]["error"].startswith(error)


def test_other_account_refused(capsys: Any, now: Any) -> None:
    account = trust_bank_account(now)
    code, lines = _run(capsys, str(FIXTURES / "ofx2_operating.ofx"), "--account", str(account.pk))
    assert code == 1
    assert lines[0]["error"].startswith("account: the file is for account ••••7654")
    assert not StatementLine.objects.exists()
    assert Path(FIXTURES / "ofx2_operating.ofx").exists()
