"""`manage.py verify_audit`: walk the audit hash chain; exit 1 at the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.core.audit import verify_chain
from caseledger.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; report the first altered or missing event."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = verify_chain()
        if broken is None:
            count = AuditEvent.objects.count()
            self.stdout.write(f"OK: {count} audit event{'s' if count != 1 else ''}, chain intact")
            return
        self.stderr.write(f"BROKEN at audit event {broken.event_id}: {broken.reason}")
        raise SystemExit(1)
