"""The training guides and their screenshots agree (fast; no browser).

The browser test tests/e2e/test_guides.py declares the screenshots it takes (SCREENSHOTS) and
fails when a page or button a guide names is gone; this test fails when a guide shows an image
that does not exist, when a declared screenshot is shown by no guide (a renamed step), or when a
guide lacks a section a page's "Guide" link opens."""

from __future__ import annotations

from caseledger.core import guides
from tests.e2e.test_guides import SCREENSHOTS


def _texts() -> dict[str, str]:
    return {
        slug: guides.path_of(g).read_text(encoding="utf-8") for slug, g in guides.GUIDES.items()
    }


def test_every_image_a_guide_shows_exists():
    missing = [
        f"{slug}.md: img/{name}"
        for slug, text in _texts().items()
        for name in guides.images_of(text)
        if not (guides.IMAGES_DIR / name).is_file()
    ]
    assert not missing


def test_every_declared_screenshot_is_shown_by_its_guide_and_nothing_else():
    texts = _texts()
    assert set(SCREENSHOTS) == set(guides.GUIDES)
    for slug, steps in SCREENSHOTS.items():
        shown = guides.images_of(texts[slug])
        assert shown == [f"{slug}-{step}.png" for step in steps], slug


def test_no_screenshot_file_is_left_over():
    declared = {f"{slug}-{step}.png" for slug, steps in SCREENSHOTS.items() for step in steps}
    assert {p.name for p in guides.IMAGES_DIR.glob("*.png")} == declared


def test_every_guide_explains_the_tasks_its_role_is_linked_to():
    for topic, slug in guides.TOPICS.items():
        assert topic in guides.sections(guides.GUIDES[slug]), (slug, topic)
    # Each guide has at least one of the five tasks, and the client guide has the portal home's.
    for guide in guides.GUIDES.values():
        assert guides.sections(guide) & set(guides.TOPICS), guide.slug
    assert "first-invoices" in guides.sections(guides.GUIDES["client"])


def test_every_screenshot_name_is_one_the_app_serves():
    for slug, steps in SCREENSHOTS.items():
        for step in steps:
            assert guides.IMAGE_NAME.match(f"{slug}-{step}.png")
