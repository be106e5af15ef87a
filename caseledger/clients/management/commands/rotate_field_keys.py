"""`manage.py rotate_field_keys`: re-encrypt every encrypted value with the newest key in
FIELD_ENCRYPTION_KEYS and recompute the lookup hashes; afterwards older keys can be removed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.core import clock
from caseledger.core.crypto import rotate_all


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_all(now=clock.now(), batch_size=options["batch_size"])
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS("rotate_field_keys: done"))
