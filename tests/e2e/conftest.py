"""Browser journeys: Playwright driving Debian's /usr/bin/chromium against a live server.

With CI=true a missing browser is a failure, not a skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Flags for a root, headless, offline machine (see the machine notes in the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told this is deliberate (tests only).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def totp_code(device: Any) -> str:
    """The code an authenticator app shows now for ``device`` (django-otp's own TOTP)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def login_page(page: Any, live_server: Any) -> Any:
    """Log ``user`` in through the real login form; returns the page.

    When the login asks for a two-factor code (the user has a device, or the firm requires one
    for the role) the fixture answers it like the user's phone would, enrolling a device first
    if needed; pass ``two_factor=False`` to stop at that step instead."""

    def login(
        username: str, password: str = "correct horse battery staple", two_factor: bool = True
    ) -> Any:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if not two_factor:
            return page
        if "/login/two-factor/" in page.url or "/profile/two-factor/" in page.url:
            device = TOTPDevice.objects.filter(user__username=username).order_by("-id").first()
            assert device is not None, f"no TOTP device for {username}"
            page.fill("#id_code", totp_code(device))
            page.click("main button.primary")
            page.wait_for_load_state()
        return page

    return login
