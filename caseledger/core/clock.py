"""The one clock: the current instant and the firm's calendar date.

Every "now" and "today" in the product comes from here, in pages and in jobs alike, so a
payment received at 23:30 in New York is dated the same day whether a page or a huey job on a
UTC server records it. ``core.tests.test_clock_lint`` refuses ``timezone.now()``,
``timezone.localdate()``, ``date.today()`` and ``datetime.now()`` anywhere else.

The firm's zone comes from the request's middleware when one is active (one read per request)
and from the firm's settings otherwise (a job, a command)."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from caseledger.core.exceptions import ApplicationError

# Set by RequestContextMiddleware for the length of a request.
current_zone: ContextVar[ZoneInfo | None] = ContextVar("current_zone", default=None)

# Business dates the product accepts: anything outside is a typing slip (year 1, 20260)
# that would otherwise post silently into a period nobody looks at.
EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def now() -> dt.datetime:
    """The current instant (aware, UTC)."""
    return timezone.now()


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def firm_zone() -> ZoneInfo:
    """The firm's time zone (settings.TIME_ZONE until the firm sets one)."""
    zone = current_zone.get()
    if zone is not None:
        return zone
    from caseledger.core.models import Firm

    return zone_named(Firm.objects.filter(id=1).values_list("time_zone", flat=True).first())


def firm_date(instant: dt.datetime | None = None) -> dt.date:
    """The firm's calendar date at ``instant`` (default: now)."""
    return (instant or now()).astimezone(firm_zone()).date()


def firm_today() -> dt.date:
    """Today in the firm's time zone."""
    return firm_date()


def date_check(value: dt.date, *, field: str) -> dt.date:
    """``value`` if it lies between 1990-01-01 and 2100-12-31; ApplicationError naming
    ``field`` otherwise."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ApplicationError(
            f"{field}: {value.isoformat()} is outside the dates this firm's books accept "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}).",
            field=field,
        )
    return value
