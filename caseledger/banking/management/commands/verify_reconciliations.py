"""Recompute every signed reconciliation and check the hash chain: one JSON line per record
(``reconciliation``, ``bank_account``, ``period_end``, ``status``, ``ok``, ``problems``), then a
summary line; exit status 1 when any record differs."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from caseledger.banking.reconciliation.services import reconciliations_verify


class Command(BaseCommand):
    help = "Recompute signed reconciliations and check their hash chain (exit 1 on a difference)."

    def handle(self, *args: Any, **options: Any) -> None:
        results = reconciliations_verify()
        for result in results:
            self.stdout.write(result.as_json())
        bad = [r for r in results if not r.ok]
        self.stdout.write(
            json.dumps({"checked": len(results), "failed": len(bad), "ok": not bad}, sort_keys=True)
        )
        if bad:
            sys.exit(1)
