"""No page offers a control its viewer is refused: the demo firm is crawled as every role with
the test client (see ``crawl.py``). Every visible same-site link is requested (up to a few per
URL pattern) and every visible form is submitted empty, each submission rolled back, and none
may answer 403 or 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from caseledger.core.tests.crawl import Frontier, parse, pattern_of, same_site_path

BASE = "http://testserver/"
DEMO_LOGINS = ["admin", "partner", "attorney", "paralegal", "billing", "operations", "client"]


@pytest.fixture(scope="module")
def demo_firm(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The demo firm, seeded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def _refused(status: int) -> bool:
    return status == 403 or status >= 500


def crawl(client: Any) -> list[str]:
    """Problems found: "<status> <method> <url> (linked from <page>)"."""
    problems: list[str] = []
    frontier = Frontier()
    posted: set[str] = set()
    queue = [("/", "sign-in")]
    frontier.admit("/")
    while queue:
        url, source = queue.pop(0)
        response = client.get(url)
        if _refused(response.status_code):
            problems.append(f"{response.status_code} GET {url} (linked from {source})")
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = parse(response.content.decode())
        for href in page.links:
            path = same_site_path(BASE + url.lstrip("/"), href)
            if path is None:
                continue
            request_it, open_it = frontier.admit(path)
            if open_it:
                queue.append((path, url))
            elif request_it:
                status = client.get(path).status_code
                if _refused(status):
                    problems.append(f"{status} GET {path} (linked from {url})")
        for form in page.forms:
            action = same_site_path(BASE + url.lstrip("/"), form.action or url)
            if action is None:
                continue
            if form.method == "GET":
                request_it, open_it = frontier.admit(action)
                if open_it:
                    queue.append((action, url))
                continue
            key = pattern_of(action) or action
            if key in posted:
                continue
            posted.add(key)
            with transaction.atomic():
                status = client.post(action, data={}).status_code
                transaction.set_rollback(True)
            if _refused(status):
                problems.append(f"{status} POST {action} [{form.label}] (form on {url})")
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("username", DEMO_LOGINS)
def test_no_control_leads_to_a_refusal(demo_firm, username, login):
    from caseledger.core.models import User

    client = login(User.objects.get(username=username))
    problems = crawl(client)
    assert not problems, f"{username}:\n" + "\n".join(problems)
