"""Refusal-message coverage: which refusals the services raise have a test that checks their text.

Lists every ``raise SomeError("...")`` in ``caseledger/*/services*`` (a module or a package) whose
class is ``ApplicationError``, one of its subclasses in an app's ``exceptions.py``, or Django's
``ValidationError``, with the message resolved when it is a literal, an f-string, a module
constant (``E.NAME``, ``NAME``, also one imported by name from another CaseLedger module, as a
services package's modules do) or ``CONSTANT.format(...)``. A refusal is covered when a test of
its own app (``caseledger/<app>/tests/``) checks that text: a ``match=`` argument or an
``assert`` holds 20 characters in a row of its fixed text (between placeholders; a message
whose fixed runs are all shorter: its longest run, at least 8 characters), or names its
constant there.

    python scripts/refusal_coverage.py            # {"apps": {app: {covered, total}}, ...}
    python scripts/refusal_coverage.py --list     # also every refusal, covered or not
    python scripts/refusal_coverage.py --root /other/checkout/caseledger
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "caseledger"
WINDOW = 20
MIN_SHORT = 8
_REGEX_ESCAPE = re.compile(r"\\(.)")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass
class Refusal:
    app: str
    path: str
    line: int
    message: str  # fixed text, placeholders as \0
    constant: str  # the constant's name when the message is one, else ""
    covered: bool = False

    def fragments(self) -> list[str]:
        """Pieces of fixed text a test must hold one of: every WINDOW-character run of the
        message's fixed text, or its longest run when none is that long."""
        pieces = self.message.split("\0")
        windows = [
            piece[i : i + WINDOW] for piece in pieces for i in range(len(piece) - WINDOW + 1)
        ]
        if windows:
            return windows
        longest = max(pieces, key=lambda p: len(p.strip())).strip()
        return [longest] if len(longest) >= MIN_SHORT else []


def _error_classes() -> set[str]:
    names = {"ApplicationError", "ValidationError", "InvalidTransition", "NotPermitted"}
    for path in ROOT.glob("*/exceptions.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names


def _string_constants(path: Path) -> dict[str, str]:
    """Module-level NAME = "text" (or a parenthesized concatenation) of ``path``."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            text = _text(value, {})
            if text is not None:
                found[target.id] = text
    return found


def _imported_constants(tree: ast.Module) -> dict[str, str]:
    """The string constants a service module imports by name from another CaseLedger module
    (``from caseledger.payments.services.common import AMOUNT_NOT_POSITIVE``): a package's
    modules share refusals through such imports."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("caseledger.")):
            continue
        base = ROOT.parent.joinpath(*str(node.module).split("."))
        source = (
            base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        )
        constants = _string_constants(source)
        for alias in node.names:
            if alias.name in constants:
                found[alias.asname or alias.name] = constants[alias.name]
    return found


def _text(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The fixed text of a message expression (placeholders as \\0), or None when unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "\0" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, constants), _text(node.right, constants)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute):
        return constants.get(node.attr)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        base = _text(node.func.value, constants)
        return None if base is None else _PLACEHOLDER.sub("\0", base)
    return None


def _constant_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    if isinstance(node, ast.Name) and node.id.isupper():
        return node.id
    if isinstance(node, ast.Attribute) and node.attr.isupper():
        return node.attr
    return ""


def _service_files() -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for app_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        for path in sorted(app_dir.glob("**/services*.py")) + sorted(
            app_dir.glob("**/services/*.py")
        ):
            if "tests" not in path.parts and "migrations" not in path.parts:
                files.append((app_dir.name, path))
    return files


def refusals() -> list[Refusal]:
    classes = _error_classes()
    found: list[Refusal] = []
    for app, path in _service_files():
        tree = ast.parse(path.read_text())
        constants = {
            **_string_constants(ROOT / app / "exceptions.py"),
            **_imported_constants(tree),
            **_string_constants(path),
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in classes or not node.exc.args:
                continue
            text = _text(node.exc.args[0], constants)
            if text is None or not text.replace("\0", "").strip():
                continue
            found.append(
                Refusal(
                    app=app,
                    path=str(path.relative_to(ROOT.parent)),
                    line=node.lineno,
                    message=text,
                    constant=_constant_name(node.exc.args[0]),
                )
            )
    return found


def _unregex(text: str) -> str:
    return _REGEX_ESCAPE.sub(r"\1", text)


def test_evidence(app: str) -> tuple[list[str], set[str]]:
    """Strings the app's tests check a message against (``match=``, ``assert``) and the names
    used there. Another app's tests do not count: the same wording ("method: must be one of")
    recurs across apps, and a test of one says nothing of the other."""
    texts: list[str] = []
    names: set[str] = set()

    def collect(node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                texts.append(_unregex(sub.value))
            elif isinstance(sub, ast.Name) and sub.id.isupper():
                names.add(sub.id)
            elif isinstance(sub, ast.Attribute) and sub.attr.isupper():
                names.add(sub.attr)

    for path in (ROOT / app).glob("**/tests/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assert):
                collect(node.test)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "match":
                        collect(keyword.value)
    return texts, names


def measure() -> tuple[dict[str, dict[str, int]], list[Refusal]]:
    found = refusals()
    evidence = {app: test_evidence(app) for app in {r.app for r in found}}
    for refusal in found:
        texts, names = evidence[refusal.app]
        corpus = "\n".join(texts)
        refusal.covered = (refusal.constant != "" and refusal.constant in names) or any(
            fragment in corpus for fragment in refusal.fragments()
        )
    # One message raised in several places counts once per app.
    apps: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, str], bool] = {}
    for r in found:
        key = (r.app, r.message)
        seen[key] = seen.get(key, False) or r.covered
    for (app, _), covered in sorted(seen.items()):
        row = apps.setdefault(app, {"covered": 0, "total": 0})
        row["total"] += 1
        row["covered"] += int(covered)
    return apps, found


def main(argv: list[str]) -> int:
    global ROOT
    if "--root" in argv:
        ROOT = Path(argv[argv.index("--root") + 1]).resolve()
    apps, found = measure()
    covered = sum(a["covered"] for a in apps.values())
    total = sum(a["total"] for a in apps.values())
    report: dict[str, object] = {
        "covered": covered,
        "total": total,
        "percent": round(100 * covered / total, 1) if total else 100.0,
        "apps": apps,
    }
    if "--list" in argv:
        report["refusals"] = [
            {
                "where": f"{r.path}:{r.line}",
                "message": r.message.replace("\0", "{}"),
                "covered": r.covered,
            }
            for r in found
        ]
    print(json.dumps(report, indent=1 if "--list" in argv else None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
