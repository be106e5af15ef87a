"""`manage.py verify_ledger`: recompute every balance from postings and check the trust
invariants; prints each difference and exits 1 when there is any."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from caseledger.ledger.selectors import ledger_verify


class Command(BaseCommand):
    help = "Recompute ledger balances from postings; check trust bank = sum of client ledgers."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_verify()
        for line in problems:
            self.stdout.write(line)
        if problems:
            self.stderr.write(f"verify_ledger: {len(problems)} difference(s)")
            sys.exit(1)
        self.stdout.write("verify_ledger: every balance matches its postings; trust is in balance")
