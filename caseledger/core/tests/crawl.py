"""A bounded crawl of the pages a signed-in user can reach, shared by the test-client check
(``test_controls_match_permissions``) and the browser crawl (``tests/e2e/test_crawl_roles.py``).

Pages are deduplicated by URL pattern: one page per pattern is opened and parsed, and up to
``PER_PATTERN`` distinct URLs of each pattern are requested (object scopes differ per object).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from django.urls import Resolver404, resolve

# Links the crawl never follows: leaving the session, the API (its own matrix and tests cover
# it), static files, and the public pages reached by signed token (not a staff control).
SKIP_PREFIXES = ("/logout/", "/api/", "/static/", "/media/", "/admin/")
PER_PATTERN = 3
MAX_PAGES = 150


@dataclass
class Form:
    method: str
    action: str
    label: str


@dataclass
class Page:
    links: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.page.links.append(a["href"])
        elif tag == "form":
            self._form = Form(
                method=(a.get("method") or "get").upper(), action=a.get("action", ""), label=""
            )
            self.page.forms.append(self._form)
        elif tag == "button" and self._form is not None and not self._form.label:
            self._form.label = a.get("name") or "button"

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._form.label == "button" and data.strip():
            self._form.label = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    return parser.page


def same_site_path(base: str, href: str) -> str | None:
    """The path (with query) of ``href`` when it stays on this site and is worth following."""
    if href.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    url, _ = urldefrag(urljoin(base, href))
    parts = urlsplit(url)
    base_parts = urlsplit(base)
    if parts.netloc and parts.netloc != base_parts.netloc:
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def pattern_of(path: str) -> str | None:
    """The URL pattern a path resolves to ("app:name"), or None when it resolves to nothing."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


class Frontier:
    """Which URLs to open and which to only request, per pattern, within the bounds."""

    def __init__(self, per_pattern: int = PER_PATTERN, max_pages: int = MAX_PAGES) -> None:
        self.per_pattern = per_pattern
        self.max_pages = max_pages
        self.seen: set[str] = set()
        self.count: dict[str, int] = {}
        self.opened = 0

    def admit(self, path: str) -> tuple[bool, bool]:
        """(request it, open and parse it) for a newly found path."""
        if path in self.seen:
            return False, False
        key = pattern_of(path) or urlsplit(path).path
        n = self.count.get(key, 0)
        if n >= self.per_pattern:
            return False, False
        self.seen.add(path)
        self.count[key] = n + 1
        parse_it = n == 0 and self.opened < self.max_pages
        if parse_it:
            self.opened += 1
        return True, parse_it
