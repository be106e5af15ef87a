"""`manage.py aging_facts_rebuild`: write the aging fact of every A/R posting that has none
(idempotent: a second run writes nothing; existing facts are never changed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.collections.services import aging_facts_rebuild


class Command(BaseCommand):
    help = "Back-fill missing aging facts (one per ledger posting to A/R); idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        written = aging_facts_rebuild()
        self.stdout.write(f"aging_facts_rebuild: {written} missing fact(s) written")
