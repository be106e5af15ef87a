"""Migrations are frozen: none imports live code of the project, which could change under it and
change what an old migration does (docs/adr/019-frozen-migrations.md). They copy the constants
and functions they need, and data migrations use ``apps.get_model``."""

from __future__ import annotations

import ast
from pathlib import Path

import caseledger

# The frozen API that migrations may import: its SQL never changes once a migration uses it.
FROZEN_MODULES = {"caseledger.core.migration_ops", "caseledger.billing.migration_ops"}

# What Django's autodetector writes into a migration to describe the schema: custom field
# classes and callable defaults, referenced by dotted path (Django requires them importable).
SCHEMA_REFERENCES = {
    "caseledger.core.crypto": {"EncryptedTextField", "EncryptedDateField"},
    "caseledger.core.models": {"default_two_factor_roles"},
    "caseledger.credits.models": {"default_approval_reasons"},
}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def forbidden_imports(source: str) -> list[str]:
    """What the migration ``source`` imports of the project beyond the frozen API."""
    found: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("caseledger"):
            if node.module not in FROZEN_MODULES:
                found += [f"from {node.module} import {a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.startswith("caseledger") and a.name not in SCHEMA_REFERENCES
            ]
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node) or ""
            module, _, name = dotted.rpartition(".")
            if module in SCHEMA_REFERENCES and name not in SCHEMA_REFERENCES[module]:
                found.append(dotted)
    return found


def test_no_migration_imports_live_code() -> None:
    root = Path(caseledger.__file__).parent
    offenders = {
        str(path.relative_to(root)): found
        for path in sorted(root.glob("*/migrations/*.py"))
        if (found := forbidden_imports(path.read_text()))
    }
    assert offenders == {}


def test_the_scan_refuses_live_imports() -> None:
    assert forbidden_imports("from caseledger.core.db import AppendOnly") == [
        "from caseledger.core.db import AppendOnly"
    ]
    assert forbidden_imports("def f():\n    from caseledger.clients import countries\n") == [
        "from caseledger.clients import countries"
    ]
    assert forbidden_imports("import caseledger.billing.selectors") == [
        "import caseledger.billing.selectors"
    ]
    assert forbidden_imports(
        "import caseledger.core.crypto\nx = caseledger.core.crypto.hash_key()"
    ) == ["caseledger.core.crypto.hash_key"]
    assert (
        forbidden_imports(
            "import caseledger.core.crypto\n"
            "from caseledger.core.migration_ops import AppendOnly\n"
            "f = caseledger.core.crypto.EncryptedTextField()"
        )
        == []
    )
