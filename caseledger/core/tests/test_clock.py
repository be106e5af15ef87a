"""One clock: core.clock is the only reader of the system time, and its dates are the firm's."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import Firm

ROOT = Path(__file__).resolve().parents[3]

# (object, attribute) calls that read the system time.
FORBIDDEN = {
    ("timezone", "now"),
    ("timezone", "localdate"),
    ("timezone", "localtime"),
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if (name, node.func.attr) in FORBIDDEN:
            if node.func.attr == "localtime" and node.args:
                continue  # converting a given instant to the active zone reads no clock
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno}: {name}.{node.func.attr}()")
    return found


def _production_modules() -> list[Path]:
    paths = list((ROOT / "caseledger").rglob("*.py")) + list((ROOT / "bench").rglob("*.py"))
    return [
        p
        for p in paths
        if "tests" not in p.parts and "migrations" not in p.parts and p.name != "clock.py"
    ]


def test_only_the_clock_reads_the_time() -> None:
    offences = [o for path in _production_modules() for o in _offences(path)]
    assert offences == [], "use caseledger.core.clock instead:\n" + "\n".join(offences)


def test_the_lint_sees_each_forbidden_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime\nfrom django.utils import timezone\n"
        "a = timezone.now()\nb = datetime.date.today()\nc = datetime.datetime.now()\n"
        "d = timezone.localdate()\ne = timezone.localtime(a)\n"
    )
    found = _offences(sample)
    assert [f.rsplit(": ", 1)[1] for f in found] == [
        "timezone.now()",
        "date.today()",
        "datetime.now()",
        "timezone.localdate()",
    ]


@pytest.mark.django_db
def test_firm_today_follows_the_firm_zone_outside_a_request() -> None:
    firm = Firm.objects.get(id=1)
    instant = dt.datetime(2026, 3, 1, 3, 30, tzinfo=dt.UTC)  # 22:30 on Feb 28 in New York
    firm.time_zone = "America/New_York"
    firm.save(update_fields=["time_zone"])
    assert clock.firm_date(instant) == dt.date(2026, 2, 28)
    firm.time_zone = "Asia/Tokyo"
    firm.save(update_fields=["time_zone"])
    assert clock.firm_date(instant) == dt.date(2026, 3, 1)


def test_the_request_zone_wins_when_a_request_set_it() -> None:
    token = clock.current_zone.set(ZoneInfo("Pacific/Auckland"))
    try:
        assert clock.firm_zone() == ZoneInfo("Pacific/Auckland")
    finally:
        clock.current_zone.reset(token)


@pytest.mark.parametrize(
    "value", [dt.date(1, 1, 1), dt.date(1989, 12, 31), dt.date(2101, 1, 1), dt.date(9999, 12, 31)]
)
def test_dates_outside_the_books_are_refused_by_name(value: dt.date) -> None:
    with pytest.raises(ApplicationError) as caught:
        clock.date_check(value, field="received_date")
    assert caught.value.field == "received_date"
    assert str(caught.value).startswith(f"received_date: {value.isoformat()} is outside")


@pytest.mark.parametrize(
    "value", [dt.date(1990, 1, 1), dt.date(2026, 12, 2), dt.date(2100, 12, 31)]
)
def test_dates_inside_the_books_pass(value: dt.date) -> None:
    assert clock.date_check(value, field="received_date") == value
