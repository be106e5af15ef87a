"""The training guides: one Markdown file per role in docs/guides/, each step with a screenshot
the browser test ``tests/e2e/test_guides.py`` takes (docs/guides/img/<guide>-<step>.png), so a
renamed button or a moved page fails that test instead of leaving the guide stale.

The app serves them at /help/<guide>/ (``core.views.help_guide``) and pages link to the section
that explains them with ``{% guide_link "topic" %}`` (``core.templatetags.guides``): the signed-in
person's own guide when it has that section, otherwise the guide of the role that does the task.
A section's anchor is its heading slugified (GitHub's rule and Markdown's ``toc`` extension
agree on these plain headings): "## Closing a month" is ``#closing-a-month``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from caseledger.core.choices import Role

GUIDES_DIR = Path(settings.BASE_DIR) / "docs" / "guides"
IMAGES_DIR = GUIDES_DIR / "img"
IMAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.png$")


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    roles: frozenset[str]


GUIDES = {
    g.slug: g
    for g in (
        Guide("partner", "Partner reviewer", frozenset({Role.PARTNER, Role.ATTORNEY})),
        Guide("billing", "Billing staff", frozenset({Role.BILLING})),
        Guide("intake", "Intake and paralegals", frozenset({Role.PARALEGAL})),
        Guide("operations", "Operations", frozenset({Role.OPERATIONS})),
        Guide("admin", "Administrator", frozenset({Role.ADMIN})),
        Guide("client", "Client", frozenset({Role.CLIENT})),
    )
}

# The tasks the guides teach (their section anchors) and the guide that does each one, used when
# the signed-in person's own guide has no such section.
TOPICS = {
    "first-invoices": "billing",
    "processing-a-retainer": "billing",
    "issuing-a-credit-note": "billing",
    "reconciling-a-bank-deposit": "billing",
    "closing-a-month": "billing",
}


def guide_of_role(role: str) -> Guide:
    return next(g for g in GUIDES.values() if role in g.roles)


def may_read(role: str, guide: Guide) -> bool:
    """Staff read every guide (cross-training); a client reads the client guide only."""
    return role != Role.CLIENT or guide.slug == "client"


def may_see_image(role: str, name: str) -> bool:
    return role != Role.CLIENT or name.startswith("client-")


def path_of(guide: Guide) -> Path:
    return GUIDES_DIR / f"{guide.slug}.md"


def slugify_heading(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


@lru_cache(maxsize=32)
def _sections(path: Path, mtime: float) -> frozenset[str]:
    headings = re.findall(r"^#{2,3} +(.+?) *$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return frozenset(slugify_heading(h) for h in headings)


def sections(guide: Guide) -> frozenset[str]:
    """The guide's section anchors; none when the checkout has no docs/ (an installed package)."""
    path = path_of(guide)
    if not path.is_file():
        return frozenset()
    return _sections(path, path.stat().st_mtime)


def guide_for(role: str, topic: str) -> tuple[Guide, str] | None:
    """The guide and anchor a page's "Guide" link opens for this role (None: no guide to show)."""
    if topic not in TOPICS:
        raise ValueError(f"guide topic {topic!r} is not one of {sorted(TOPICS)}")
    own = guide_of_role(role)
    if topic in sections(own):
        return own, topic
    if role == Role.CLIENT:
        return (own, "") if path_of(own).is_file() else None
    other = GUIDES[TOPICS[topic]]
    return (other, topic) if topic in sections(other) else None


def images_of(text: str) -> list[str]:
    """The screenshot names a guide's Markdown shows (``![...](img/NAME.png)``)."""
    return re.findall(r"!\[[^\]]*\]\(img/([^)\s]+)\)", text)
