"""Every row lock lives in its app's ``locks.py`` (where the global lock order is written down):
no other production module calls ``select_for_update`` or writes ``FOR UPDATE``."""

from __future__ import annotations

import re
from pathlib import Path

import caseledger

LOCK = re.compile(r"select_for_update|FOR UPDATE")


def row_locks_outside_locks_modules(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(root).parts)
        if path.name == "locks.py" or parts & {"tests", "migrations"}:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if LOCK.search(line):
                found.append(f"{path.relative_to(root)}:{number}")
    return found


def test_every_row_lock_is_in_a_locks_module() -> None:
    assert row_locks_outside_locks_modules(Path(caseledger.__file__).parent) == []


def test_the_scan_finds_a_lock_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "locks.py").write_text("X.objects.select_for_update()\n")
    (tmp_path / "app" / "services.py").write_text("a = 1\nX.objects.select_for_update()\n")
    (tmp_path / "app" / "raw.py").write_text('sql = "SELECT 1 FOR UPDATE"\n')
    assert row_locks_outside_locks_modules(tmp_path) == ["app/raw.py:1", "app/services.py:2"]
