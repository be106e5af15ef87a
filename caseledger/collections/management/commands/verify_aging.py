"""`manage.py verify_aging`: check that the aging facts equal the ledger's A/R postings (count
and sum per invoice, and each fact's values); prints each difference by invoice and exits 1 when
there is any."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from caseledger.collections.selectors import aging_facts_verify


class Command(BaseCommand):
    help = "Check the aging facts against the ledger's A/R postings, per invoice."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = aging_facts_verify()
        for line in problems:
            self.stdout.write(line)
        if problems:
            self.stderr.write(
                f"verify_aging: {len(problems)} difference(s); "
                "`manage.py aging_facts_rebuild` writes missing facts"
            )
            sys.exit(1)
        self.stdout.write("verify_aging: one aging fact per A/R posting, every invoice agrees")
