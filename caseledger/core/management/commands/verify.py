"""`manage.py verify`: every cross-check of the records against each other, in one run.

The checks are listed in ``settings.VERIFY_CHECKS`` (name -> dotted path of a function taking
no arguments and returning one line per difference), so core names no app above it. Prints
``{"check": ..., "problem": ...}`` JSON lines for each difference and one summary line
``{"verify": "ok"|"failed", "checks": N, "problems": M}``; exits 1 when any check finds one.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Run every cross-check (ledger, audit, invoices, payments, trust, aging); exit 1 on any."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        checks: dict[str, str] = settings.VERIFY_CHECKS
        for name, path in checks.items():
            problems = list(import_string(path)())
            total += len(problems)
            for line in problems:
                self.stdout.write(json.dumps({"check": name, "problem": line}))
        verdict = "failed" if total else "ok"
        self.stdout.write(json.dumps({"verify": verdict, "checks": len(checks), "problems": total}))
        if total:
            self.stderr.write(f"verify: {total} difference(s)")
            sys.exit(1)
