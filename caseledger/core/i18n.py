"""The language a client reads: documents and emails for a client render under
``client_language(client)`` (``Client.preferred_language``: English or Spanish; anything else,
English). Staff pages stay English. Dates a client reads come from ``short_date`` and
``long_date`` ("Dec 2, 2026" / "December 2, 2026"; "2 dic. 2026" / "2 de diciembre de 2026"),
through the gettext catalogs, so they follow the active language. Money keeps the US form
("$1,234.56") in both languages: the firm bills in dollars, and US Spanish (es-US, CLDR) writes
dollar amounts with the comma for thousands and the point for cents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy

CLIENT_LANGUAGES = ("en", "es")

# Literal pgettext_lazy calls, so makemessages extracts them.
_MONTHS = (
    pgettext_lazy("month name", "January"),
    pgettext_lazy("month name", "February"),
    pgettext_lazy("month name", "March"),
    pgettext_lazy("month name", "April"),
    pgettext_lazy("month name", "May"),
    pgettext_lazy("month name", "June"),
    pgettext_lazy("month name", "July"),
    pgettext_lazy("month name", "August"),
    pgettext_lazy("month name", "September"),
    pgettext_lazy("month name", "October"),
    pgettext_lazy("month name", "November"),
    pgettext_lazy("month name", "December"),
)
_MONTHS_SHORT = (
    pgettext_lazy("abbreviated month", "Jan"),
    pgettext_lazy("abbreviated month", "Feb"),
    pgettext_lazy("abbreviated month", "Mar"),
    pgettext_lazy("abbreviated month", "Apr"),
    pgettext_lazy("abbreviated month", "May"),
    pgettext_lazy("abbreviated month", "Jun"),
    pgettext_lazy("abbreviated month", "Jul"),
    pgettext_lazy("abbreviated month", "Aug"),
    pgettext_lazy("abbreviated month", "Sep"),
    pgettext_lazy("abbreviated month", "Oct"),
    pgettext_lazy("abbreviated month", "Nov"),
    pgettext_lazy("abbreviated month", "Dec"),
)


# Role -> fn(user) -> the language of that user's pages (an app above core registers it in its
# AppConfig.ready: the portal for client users, from their client's language). Staff read
# English.
_USER_LANGUAGES: dict[str, Callable[[Any], str]] = {}


def register_user_language(role: str, language_of_user: Callable[[Any], str]) -> None:
    _USER_LANGUAGES[str(role)] = language_of_user


def user_language(user: Any) -> str:
    """The language core's pages that a signed-in user of any role reaches (the two-factor
    enrolment and code pages) render in: the registered one for the user's role, else
    English."""
    if not getattr(user, "is_authenticated", False):
        return "en"
    language_of_user = _USER_LANGUAGES.get(str(getattr(user, "role", "")))
    return known_language(language_of_user(user)) if language_of_user else "en"


def known_language(code: str | None) -> str:
    """``code`` if clients read it, else "en"."""
    return code if code in CLIENT_LANGUAGES else "en"


def language_of(client: Any) -> str:
    """The client's language code among those clients read ("en" when unset or unknown)."""
    return known_language(getattr(client, "preferred_language", None))


@contextmanager
def client_language(client: Any) -> Iterator[str]:
    """Everything translated inside the block is in ``client``'s language."""
    language = language_of(client)
    with translation.override(language):
        yield language


def long_date(day: date) -> str:
    """A date in running text: "December 2, 2026" / "2 de diciembre de 2026"."""
    month = str(_MONTHS[day.month - 1])
    return gettext("%(month)s %(day)s, %(year)s") % {
        "month": month,
        "day": day.day,
        "year": day.year,
    }


def short_date(day: date) -> str:
    """A date in a table or a facts block: "Dec 2, 2026" / "2 dic. 2026"."""
    month = str(_MONTHS_SHORT[day.month - 1])
    return pgettext("short date", "%(month)s %(day)s, %(year)s") % {
        "month": month,
        "day": day.day,
        "year": day.year,
    }
