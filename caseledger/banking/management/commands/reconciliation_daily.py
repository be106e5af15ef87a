"""The daily reconciliation checks (also a huey periodic task): a bank balance that differs
from the journal, and months not signed in time, each open one task. Prints one JSON line per
bank account."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.banking.reconciliation.services import reconciliation_daily
from caseledger.core import clock


class Command(BaseCommand):
    help = (
        "Compare bank balances with the journal and open tasks for variances and unsigned months."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for result in reconciliation_daily(now=clock.now()):
            self.stdout.write(result.as_json())
