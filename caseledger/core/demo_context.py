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
