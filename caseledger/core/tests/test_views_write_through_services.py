"""Views and the API write through services (issue 15): no view or API module saves, creates,
updates or deletes a model row itself; a write there would skip the service's transaction, its
audit event and its checks. The one exception is the API's own idempotency store
(``api/idempotency.py``: the record of a request and its response, not business data)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW_WRITES = {
    "save",
    "delete",
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
# Method calls named like a write that are not a row's: a hash, a dict, the API router.
NOT_ROWS = {"digest", "context", "initial", "router", "query", "data", "headers", "params"}
ALLOWED = {"api/idempotency.py"}


def _view_modules() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        if path.name == "views.py" or (len(parts) > 1 and parts[-2] in {"views", "api"}):
            out.append(path)
    return out


def _receiver(node: ast.Attribute) -> str:
    """The innermost name a call chain starts from (``Invoice`` in
    ``Invoice.objects.filter(...).update``)."""
    value: ast.AST = node.value
    while True:
        if isinstance(value, ast.Attribute):
            value = value.value
        elif isinstance(value, ast.Call):
            value = value.func
        elif isinstance(value, ast.Subscript):
            value = value.value
        else:
            break
    return value.id if isinstance(value, ast.Name) else ""


def _writes(path: Path, name: str) -> list[str]:
    """Each row write in ``path`` as ``name:line: call``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in ROW_WRITES and _receiver(node.func) not in NOT_ROWS:
            found.append(f"{name}:{node.lineno}: {ast.unparse(node.func)}")
    return found


def test_views_and_api_write_no_rows_themselves() -> None:
    modules = _view_modules()
    assert len(modules) > 20  # every app's views and the API's modules are read
    found = [
        w
        for path in modules
        if str(path.relative_to(ROOT)) not in ALLOWED
        for w in _writes(path, str(path.relative_to(ROOT)))
    ]
    assert found == [], "call a service instead:\n" + "\n".join(found)


def test_the_check_sees_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "views.py"
    sample.write_text(
        "def v(request, pk):\n"
        "    Invoice.objects.filter(pk=pk).update(status='VOID')\n"
        "    invoice.save()\n"
        "    context.update({'a': 1})\n"
    )
    assert _writes(sample, "views.py") == [
        "views.py:2: Invoice.objects.filter(pk=pk).update",
        "views.py:3: invoice.save",
    ]
