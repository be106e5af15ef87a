"""The training guides served at /help/: rendering, who reads which guide, the screenshot view's
path check, and the pages' "Guide" links (tests/test_guides_docs.py checks the docs themselves)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from caseledger.core import guides
from caseledger.core.choices import Role

pytestmark = pytest.mark.django_db


def test_a_guide_renders_with_section_anchors_and_served_screenshots(login, users):
    page = login(users["BILLING"]).get("/help/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    for anchor in guides.TOPICS:
        assert f'id="{anchor}"' in html
    assert 'src="/help/img/billing-issue-invoice.png"' in html
    assert 'href="../partner/#closing-a-month"' in html  # the Markdown's link to another guide


def test_a_screenshot_is_served_as_png(login, users):
    answer = login(users["PARTNER"]).get("/help/img/partner-review-queue.png")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "name", ["..%2Fpartner.md", "partner.md", "PARTNER-review-queue.png", "missing-step.png"]
)
def test_only_existing_screenshots_by_plain_name_are_served(login, users, name):
    assert login(users["ADMIN"]).get(f"/help/img/{name}").status_code == 404


def test_an_unknown_guide_is_not_found(login, users):
    assert login(users["ADMIN"]).get("/help/nobody/").status_code == 404


def test_a_client_reads_the_client_guide_only(login, users):
    client = login(users["CLIENT"])
    assert client.get("/help/client/").status_code == 200
    assert client.get("/help/img/client-home.png").status_code == 200
    assert client.get("/help/partner/").status_code == 403
    assert client.get("/help/img/partner-review-queue.png").status_code == 403


def test_anonymous_is_sent_to_login(client):
    answer = client.get("/help/client/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("role", "topic", "href"),
    [
        (Role.PARTNER, "first-invoices", "/help/partner/#first-invoices"),
        (Role.ATTORNEY, "closing-a-month", "/help/partner/#closing-a-month"),
        # The partner guide has no retainer section: the guide of the role that does it.
        (Role.PARTNER, "processing-a-retainer", "/help/billing/#processing-a-retainer"),
        (Role.BILLING, "reconciling-a-bank-deposit", "/help/billing/#reconciling-a-bank-deposit"),
        (Role.ADMIN, "issuing-a-credit-note", "/help/admin/#issuing-a-credit-note"),
        (Role.CLIENT, "first-invoices", "/help/client/#first-invoices"),
    ],
)
def test_the_guide_link_opens_the_role_s_section(make_user, role, topic, href):
    user = make_user(role=role)
    html = Template("{% load guides %}{% guide_link topic %}").render(
        Context({"user": user, "topic": topic})
    )
    assert f'href="{href}"' in html
    assert ">Guide</a>" in html


def test_an_unknown_topic_is_refused(make_user):
    with pytest.raises(ValueError, match="guide topic 'nothing' is not one of"):
        guides.guide_for(Role.BILLING, "nothing")


@pytest.mark.parametrize(
    ("url", "topic"),
    [
        ("/billing/review/", "first-invoices"),
        ("/trust/deposits/new/", "processing-a-retainer"),
        ("/credits/", "issuing-a-credit-note"),
        ("/credits/new/", "issuing-a-credit-note"),
        ("/banking/reconciliation/", "closing-a-month"),
    ],
)
def test_the_pages_a_guide_explains_link_to_it(login, users, url, topic):
    page = login(users["PARTNER"]).get(url)
    assert page.status_code == 200
    assert 'class="button guide-link"' in page.content.decode()
    expected = guides.guide_for(Role.PARTNER, topic)
    assert expected is not None
    assert f'href="/help/{expected[0].slug}/#{topic}"' in page.content.decode()
