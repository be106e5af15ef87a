"""Every role walks the demo firm in a real browser: each visible same-site link is followed (one
page per URL pattern, at most MAX_PAGES per role) and each visible form's method is sent with empty
data (one per action pattern); any 403, any 5xx and any console error on a page fails.

The form submissions go through the browser's own session (cookies and the form's CSRF token) but
not through a navigation, which keeps the whole walk well under two minutes. Administrators walk
last: their forms (deactivate a person, switch two-factor on) would change the others' sign-in.
"""

from __future__ import annotations

from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from caseledger.core.demo import DEMO_PASSWORD
from caseledger.core.tests.crawl import Frontier, pattern_of, same_site_path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROLES_IN_ORDER = ["partner", "attorney", "paralegal", "billing", "operations", "client", "admin"]
MAX_PAGES = 40

# What the page shows: its links, and its forms with method, action, CSRF token and button text.
CONTROLS_JS = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  forms: [...document.querySelectorAll('form')].map(f => ({
    method: (f.getAttribute('method') || 'get').toUpperCase(),
    action: f.getAttribute('action') || '',
    csrf: (f.querySelector('input[name=csrfmiddlewaretoken]') || {}).value || '',
    label: ((f.querySelector('button, input[type=submit]') || {}).textContent || '').trim(),
  })),
})"""


def walk(page: Any, base: str) -> list[str]:
    problems: list[str] = []
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(f"{m.text} [{m.location.get('url', '')}]") if m.type == "error" else None
        ),
    )
    frontier = Frontier(per_pattern=1, max_pages=MAX_PAGES)
    posted: set[str] = set()
    queue = [("/", "sign-in")]
    frontier.admit("/")
    while queue:
        path, source = queue.pop(0)
        console.clear()
        try:
            response = page.goto(base + path)
        except PlaywrightError as exc:
            if "Download is starting" not in str(exc):
                raise
            # A PDF or CSV: the browser downloads it; ask for it in the same session instead.
            download = page.request.get(base + path)
            if download.status == 403 or download.status >= 500:
                problems.append(f"{download.status} GET {path} (linked from {source})")
            continue
        status = response.status if response else 0
        if status == 403 or status >= 500:
            problems.append(f"{status} GET {path} (linked from {source})")
            continue
        if "html" not in (response.headers.get("content-type", "") if response else ""):
            continue  # a PDF shown inline: the viewer's own requests are not the page's
        if response is not None and response.status == 404:
            # The page itself is gone: an empty form the walk sent earlier (say, taking this
            # user off a matter's staff) changed what this role may see. Not a refusal or a
            # crash; the browser's "failed to load" line about it is not a page error.
            console[:] = [c for c in console if "status of 404" not in c]
        if console:
            problems.append(f"console error on {path}: {'; '.join(console)}")
        controls = page.evaluate(CONTROLS_JS)
        here = page.url
        for href in controls["links"]:
            target = same_site_path(here, href)
            if target is None:
                continue
            _, open_it = frontier.admit(target)
            if open_it:
                queue.append((target, path))
        for form in controls["forms"]:
            action = same_site_path(here, form["action"] or here)
            if action is None:
                continue
            if form["method"] == "GET":
                _, open_it = frontier.admit(action)
                if open_it:
                    queue.append((action, path))
                continue
            key = pattern_of(action) or action
            if key in posted:
                continue
            posted.add(key)
            answer = page.request.post(
                base + action,
                form={"csrfmiddlewaretoken": form["csrf"]},
                headers={"Referer": here},
                max_redirects=0,
            )
            if answer.status == 403 or answer.status >= 500:
                problems.append(f"{answer.status} POST {action} [{form['label']}] (form on {path})")
    return problems


def _shipped_case_types() -> None:
    """An earlier transactional test's flush emptied the case types that migration 0003 ships
    (the demo needs them); its seed is idempotent (get_or_create), so run it again."""
    seed = import_module("caseledger.matters.migrations.0003_seed_case_types").seed
    seed(django_apps, None)


def test_every_role_walks_the_demo_without_refusals_or_errors(browser, live_server):
    _shipped_case_types()
    call_command("seed_demo", stdout=StringIO())
    problems: list[str] = []
    for username in ROLES_IN_ORDER:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login/" not in page.url, f"{username} could not sign in"
        problems += [f"{username}: {p}" for p in walk(page, live_server.url)]
        context.close()
    assert not problems, "\n".join(problems)
