"""Banking test helpers: the fixture files and bank accounts mapped to the seeded chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from caseledger.banking import services
from caseledger.banking.models import BankAccount
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account

FIXTURES = Path(__file__).parent / "fixtures"
TRUST_NUMBER = "4400123456"
OPERATING_NUMBER = "4400987654"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def trust_bank_account(now: datetime, actor: Any = None, **extra: Any) -> BankAccount:
    return services.bank_account_create(
        name=extra.get("name", "IOLTA trust"),
        bank_name="Example Bank",
        number=extra.get("number", TRUST_NUMBER),
        ledger_account=Account.objects.get(code=codes.TRUST_BANK),
        formats=["CAMT053", "OFX"],
        actor=actor,
        now=now,
    )


def operating_bank_account(now: datetime, actor: Any = None) -> BankAccount:
    return services.bank_account_create(
        name="Operating",
        bank_name="Example Bank",
        number=OPERATING_NUMBER,
        ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
        formats=["BAI2", "MT940", "CSV"],
        actor=actor,
        now=now,
    )
