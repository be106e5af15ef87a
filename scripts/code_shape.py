"""The shape of the code: the largest modules and the longest functions of ``caseledger/``.

Production code only (migrations and tests are left out: generated or not maintained as modules).
A module's size is its line count; a function's is from its ``def`` (decorators left out) to
its last line, methods and nested functions included, each under its dotted name.

    python scripts/code_shape.py              # the 15 largest of each, JSON
    python scripts/code_shape.py --top 30
    python scripts/code_shape.py --root /other/checkout/caseledger   # another tree, e.g. main
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "caseledger"


def _production_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not {"migrations", "tests"} & set(path.relative_to(ROOT).parts)
    )


def _functions(tree: ast.AST, prefix: str) -> list[tuple[str, int, int]]:
    """(dotted name, first line, length) of every function below ``tree``."""
    found: list[tuple[str, int, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            end = node.end_lineno or node.lineno
            found.append((name, node.lineno, end - node.lineno + 1))
            found += _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            found += _functions(node, f"{prefix}{node.name}.")
    return found


def measure(top: int) -> dict[str, object]:
    modules: list[tuple[str, int]] = []
    functions: list[tuple[str, int, int]] = []
    for path in _production_modules():
        source = path.read_text()
        relative = str(path.relative_to(ROOT.parent))
        modules.append((relative, len(source.splitlines())))
        functions += [
            (f"{relative}:{name}", line, length)
            for name, line, length in _functions(ast.parse(source), "")
        ]
    modules.sort(key=lambda m: (-m[1], m[0]))
    functions.sort(key=lambda f: (-f[2], f[0]))
    return {
        "modules": len(modules),
        "lines": sum(lines for _, lines in modules),
        "functions": len(functions),
        "largest_modules": [{"module": m, "lines": n} for m, n in modules[:top]],
        "longest_functions": [
            {"function": f, "line": line, "lines": n} for f, line, n in functions[:top]
        ],
    }


def main(argv: list[str]) -> int:
    global ROOT
    if "--root" in argv:
        ROOT = Path(argv[argv.index("--root") + 1]).resolve()
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 15
    print(json.dumps(measure(top), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
