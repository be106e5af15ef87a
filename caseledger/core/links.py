"""Absolute links for everything that leaves the site: emails, PDFs, provider return URLs.

A link a client receives is opened outside the browser session that produced it, so it must be
absolute and point at the address the firm serves on: ``settings.SITE_URL`` (set in the
environment; ``make run PORT=...`` sets it to the port it serves on). Every such link is built
here, so there is one place that knows the base."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse


def site_url() -> str:
    """The absolute base of client-facing links, without a trailing slash."""
    return str(settings.SITE_URL).rstrip("/")


def absolute_url(path: str) -> str:
    """``path`` (a site path such as ``/pay/i/<token>/``) as an absolute URL on ``SITE_URL``;
    a URL that is already absolute is returned unchanged."""
    if path.startswith(("http://", "https://")):
        return path
    return site_url() + ("" if path.startswith("/") else "/") + path


def absolute_reverse(viewname: str, *args: Any, **kwargs: Any) -> str:
    """``reverse(viewname, args=args, kwargs=kwargs)`` as an absolute URL on ``SITE_URL``."""
    return absolute_url(reverse(viewname, args=args or None, kwargs=kwargs or None))
