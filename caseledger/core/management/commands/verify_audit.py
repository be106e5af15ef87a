"""`manage.py verify_audit`: walk the keyed audit chain and compare it with the last anchor
(core.anchors); prints each problem and exits 1 when there is any."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.core.anchors import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's keyed hash chain against its last anchor."

    def handle(self, *args: Any, **options: Any) -> None:
        problems, summary = audit_verify()
        if not problems:
            self.stdout.write(f"OK: {summary}")
            return
        for line in problems:
            self.stderr.write(f"BROKEN at {line}")
        raise SystemExit(1)
