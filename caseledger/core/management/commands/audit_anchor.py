"""`manage.py audit_anchor`: sign the audit chain's head now and append it to the anchor file
(what the daily job does); prints the anchor as one JSON line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from caseledger.core import clock
from caseledger.core.anchors import audit_anchor


class Command(BaseCommand):
    help = "Sign the audit chain's head and append it to AUDIT_ANCHOR_PATH (and the job log)."

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = audit_anchor(now=clock.now())
        self.stdout.write(json.dumps(anchor, sort_keys=True))
