from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class DemoContext:
    """Shared state for the demo seeders: a fixed clock and a seeded random source, so the demo
    firm is the same on every machine for a given day."""

    now: datetime
    today: date
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    users: dict[str, Any] = field(default_factory=dict)

    # The demo firm's story: 18 months of history; the firm went live on the product nine
    # months ago, and the six months before that are its reports' baseline. Billing is slower
    # and clients pay later before go-live (billing's and payments' demos read ``before_go_live``).
    HISTORY_MONTHS = 18
    GO_LIVE_MONTHS_AGO = 9
    BASELINE_MONTHS = 6

    def month_back(self, back: int) -> date:
        """The first day of the month ``back`` months before this one (0: this month)."""
        index = self.today.year * 12 + self.today.month - 1 - back
        return date(index // 12, index % 12 + 1, 1)

    @property
    def history_start(self) -> date:
        """The first day of the demo's history (the month 17 months before this one)."""
        return self.month_back(self.HISTORY_MONTHS - 1)

    @property
    def go_live(self) -> date:
        return self.month_back(self.GO_LIVE_MONTHS_AGO)

    @property
    def baseline(self) -> tuple[date, date]:
        """The six full months before go-live."""
        return self.month_back(
            self.GO_LIVE_MONTHS_AGO + self.BASELINE_MONTHS
        ), self.go_live.fromordinal(self.go_live.toordinal() - 1)

    def before_go_live(self, day: date) -> bool:
        return day < self.go_live
