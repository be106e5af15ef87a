"""Every string a client reads has its Spanish: each ``{% translate %}`` and
``{% blocktranslate %}`` of the portal's templates and each ``gettext``/``_()`` of its Python
modules must be in caseledger/portal/locale/es/LC_MESSAGES/django.po with a non-empty
translation keeping the same placeholders, and the compiled .mo must answer it. The same holds
for the client documents and emails of the apps below the portal (CLIENT_CATALOGS: invoice PDF
and email, reminders, dates): every ``gettext``/``pgettext``/``gettext_noop`` call in the app's
modules has its Spanish in that app's own catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.utils import translation

PORTAL = Path(__file__).resolve().parents[1]
PO = PORTAL / "locale" / "es" / "LC_MESSAGES" / "django.po"
APPS = PORTAL.parent
# The apps whose client documents and emails are translated, each with its own catalog.
CLIENT_CATALOGS = ("core", "billing", "collections", "credits", "payments", "trust")
CALLS = {"_", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy"}
BRACES = re.compile(r"{(\w+)}")
TRANSLATE = re.compile(r"""{%\s*translate\s+(["'])(.*?)\1""")
BLOCK = re.compile(r"{%\s*blocktranslate\b[^%]*%}(.*?){%\s*(?:plural|endblocktranslate)\s*%}", re.S)
VAR = re.compile(r"{{\s*(\w+)\s*}}")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po_entries(po: Path = PO) -> dict[str, str]:
    """msgid -> Spanish ("context\x04msgid" for an entry with a context); a fuzzy entry (never
    compiled, so never shown) counts as missing."""
    entries: dict[str, str] = {}
    text = po.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        parts: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                parts[key] = match.group(2)
            elif line.startswith('"') and key:
                parts[key] += line[1:-1]
        if parts.get("msgid") and "#, fuzzy" not in block:
            value = parts.get("msgstr", parts.get("msgstr[0]", ""))
            context = f"{_unescape(parts['msgctxt'])}\x04" if "msgctxt" in parts else ""
            entries[context + _unescape(parts["msgid"])] = _unescape(value)
    return entries


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


# Core's pages a client portal user reaches (two-factor enrolment and code, in the client's
# language through core.i18n.user_language) and the layout they extend: their Spanish is in
# core's catalog.
CORE_CLIENT_TEMPLATES = (
    APPS / "core" / "templates" / "registration" / "two_factor_enrol.html",
    APPS / "core" / "templates" / "registration" / "two_factor_verify.html",
    APPS / "templates" / "base.html",
)


def _template_strings(paths: tuple[Path, ...] = ()) -> set[str]:
    found: set[str] = set()
    for path in paths or tuple((PORTAL / "templates").rglob("*")):
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


def _app_calls(app: str) -> set[str]:
    """The literal strings an app's modules (not its tests or migrations) hand to gettext,
    "context\x04msgid" for pgettext."""
    found: set[str] = set()
    for path in (APPS / app).rglob("*.py"):
        if {"tests", "migrations"} & set(path.relative_to(APPS / app).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if name not in CALLS or not args:
                continue
            if name.startswith("pgettext"):
                if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], str):
                    found.add(f"{args[0]}\x04{args[1]}")
            elif isinstance(args[0], str):
                found.add(args[0])
    return found


def _client_catalog_strings() -> dict[str, set[str]]:
    return {app: _app_calls(app) for app in CLIENT_CATALOGS}


def _catalog(app: str) -> Path:
    return APPS / app / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_every_client_document_and_email_string_has_its_spanish() -> None:
    """Each client-facing string of the invoice and credit note PDFs, the trust receipt and
    statement, and the emails (invoice, receipts, notices, reminders) is in its app's catalog,
    translated, with the same placeholders (%(name)s and {name} alike)."""
    strings = _client_catalog_strings()
    assert len(strings["billing"]) > 30
    assert len(strings["core"]) == 31  # with the "Guide" link (core/templatetags/guides.py)
    assert len(strings["collections"]) > 15
    assert len(strings["credits"]) > 20
    assert len(strings["trust"]) > 30
    for app, found in strings.items():
        entries = _po_entries(_catalog(app))
        missing = sorted(s for s in found if not entries.get(s))
        assert missing == [], f"{app}: no Spanish for {missing}"
        for source in found:
            spanish = entries[source]
            for pattern in (PLACEHOLDER, BRACES):
                assert sorted(pattern.findall(source)) == sorted(pattern.findall(spanish)), source


def test_a_string_in_several_catalogs_reads_the_same_in_each() -> None:
    """Django merges the catalogs (the first app's wins): the same English has one Spanish."""
    seen: dict[str, tuple[str, str]] = {k: ("portal", v) for k, v in _po_entries().items()}
    clashes = []
    for app in CLIENT_CATALOGS:
        if not _catalog(app).exists():
            continue
        for source, spanish in _po_entries(_catalog(app)).items():
            other = seen.setdefault(source, (app, spanish))
            if other[1] != spanish:
                clashes.append(f"{source!r}: {other[0]} {other[1]!r}, {app} {spanish!r}")
    assert clashes == []


def test_the_client_catalogs_are_compiled() -> None:
    """Each app's .mo answers every one of its strings in Spanish (run compilemessages)."""
    stale = []
    for app, found in _client_catalog_strings().items():
        if not found:
            continue
        assert _catalog(app).with_suffix(".mo").exists(), app
        entries = _po_entries(_catalog(app))
        with translation.override("es"):
            for source in found:
                context, _sep, msgid = source.rpartition("\x04")
                got = (
                    translation.pgettext(context, msgid) if context else translation.gettext(source)
                )
                if got != entries[source]:
                    stale.append(f"{app}: {msgid}")
    assert stale == [], f"compile the catalogs (manage.py compilemessages): {stale}"
    with translation.override("es"):
        assert translation.gettext("Total due") == "Total a pagar"
        assert translation.gettext("Due on receipt") == "Vence al recibirse"


def test_cores_pages_a_client_reaches_have_their_spanish() -> None:
    """Each string of the two-factor enrolment and code pages (and of their layout) has its
    Spanish in core's catalog, with the same placeholders, and the compiled .mo answers it."""
    found = _template_strings(CORE_CLIENT_TEMPLATES)
    assert len(found) > 15
    entries = _po_entries(_catalog("core"))
    missing = sorted(s for s in found if not entries.get(s))
    assert missing == [], f"core: no Spanish for {missing}"
    with translation.override("es"):
        stale = [s for s in found if translation.gettext(s) != entries[s]]
    assert stale == [], f"compile the catalogs (manage.py compilemessages): {stale}"
