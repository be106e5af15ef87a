"""Every string a client reads in the portal has its Spanish: each ``{% translate %}`` and
``{% blocktranslate %}`` of the portal's templates and each ``gettext``/``_()`` of its Python
modules must be in caseledger/portal/locale/es/LC_MESSAGES/django.po with a non-empty
translation keeping the same placeholders, and the compiled .mo must answer it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.utils import translation

PORTAL = Path(__file__).resolve().parents[1]
PO = PORTAL / "locale" / "es" / "LC_MESSAGES" / "django.po"
TRANSLATE = re.compile(r"""{%\s*translate\s+(["'])(.*?)\1""")
BLOCK = re.compile(r"{%\s*blocktranslate\b[^%]*%}(.*?){%\s*(?:plural|endblocktranslate)\s*%}", re.S)
VAR = re.compile(r"{{\s*(\w+)\s*}}")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po_entries() -> dict[str, str]:
    """msgid -> Spanish; a fuzzy entry (never compiled, so never shown) counts as missing."""
    entries: dict[str, str] = {}
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        parts: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                parts[key] = match.group(2)
            elif line.startswith('"') and key:
                parts[key] += line[1:-1]
        if parts.get("msgid") and "#, fuzzy" not in block:
            value = parts.get("msgstr", parts.get("msgstr[0]", ""))
            entries[_unescape(parts["msgid"])] = _unescape(value)
    return entries


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _template_strings() -> set[str]:
    found: set[str] = set()
    for path in (PORTAL / "templates").rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found.update(match.group(2) for match in TRANSLATE.finditer(text))
        for match in BLOCK.finditer(text):
            found.add(VAR.sub(lambda m: f"%({m.group(1)})s", match.group(1)).strip())
    return found


def _python_strings() -> set[str]:
    found: set[str] = set()
    for path in PORTAL.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                in {"_", "gettext", "gettext_lazy"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_portal_string_has_its_spanish() -> None:
    entries = _po_entries()
    strings = _template_strings() | _python_strings()
    assert len(strings) > 100  # the extraction itself works
    missing = sorted(s for s in strings if not entries.get(s))
    assert missing == [], f"no Spanish for: {missing}"
    for source in strings:
        spanish = entries[source]
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(spanish)), source


def test_the_compiled_catalog_answers() -> None:
    """The .mo is compiled from the current .po: every singular string comes back in Spanish."""
    assert (PO.with_suffix(".mo")).exists()
    entries = _po_entries()
    with translation.override("es"):
        stale = [
            source
            for source in _template_strings() | _python_strings()
            if "%(counter)s" not in source and translation.gettext(source) != entries.get(source)
        ]
    assert stale == [], f"compile the catalog (manage.py compilemessages): {stale}"
    with translation.override("es"):
        assert translation.gettext("Balance due") == "Saldo pendiente"
        assert translation.gettext("Retainer") == "Anticipo"
        assert translation.gettext("Trust account (IOLTA)") == "Cuenta fiduciaria (IOLTA)"
