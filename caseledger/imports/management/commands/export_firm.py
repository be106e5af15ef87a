"""`manage.py export_firm OUTPUT.zip`: the firm's full export (caseledger.imports.export), written
as a stream into OUTPUT.zip.partial, renamed to OUTPUT.zip once complete (an export that fails
leaves no zip behind); prints one JSON line with the file, its size and the number of files in
it."""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseledger.core import clock
from caseledger.imports.export import export_chunks, export_recorded


class Command(BaseCommand):
    help = "Write every record (CSV + JSON), the PDFs, the audit log and a manifest to one zip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", help="path of the zip to write")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        output = options["output"]
        export_recorded(actor=None, now=now, target=output)
        size = 0
        partial = f"{output}.partial"
        try:
            with open(partial, "wb") as fh:
                for chunk in export_chunks(now=now):
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(partial, output)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        with zipfile.ZipFile(output) as zf:
            files = len(zf.namelist())
        self.stdout.write(json.dumps({"file": output, "bytes": size, "files": files}))
