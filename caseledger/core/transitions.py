"""Status machines: one explicit table per document of which status may follow which.

A service that changes a document's status asks its machine first (``check``), so every
workflow reads in one place instead of in scattered ``if status != ...`` tests::

    DISBURSEMENT = StatusMachine(
        noun="disbursement",
        statuses=DisbursementStatus,
        allowed={REQUESTED: {APPROVED, REJECTED, EXPIRED}, APPROVED: {...}, POSTED: set(), ...},
    )
    DISBURSEMENT.check(document=d, from_status=d.status, to_status=DisbursementStatus.POSTED)

A refused change raises the machine's error (``InvalidTransition``, or the app's own error class
when given) on the field ``status``, naming the document and
both statuses (their labels). The table must name every status (a final one with no targets),
so a status added to the choices without a row fails at import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from caseledger.core.exceptions import ApplicationError, InvalidTransition

TRANSITION_REFUSED = "status: {noun} {document} cannot go from {from_status} to {to_status}"


class StatusMachine:
    def __init__(
        self,
        *,
        noun: str,
        statuses: type[models.TextChoices],
        allowed: Mapping[str, Iterable[str]],
        error: type[ApplicationError] = InvalidTransition,
    ) -> None:
        values = set(statuses.values)
        missing = values - set(allowed)
        unknown = (set(allowed) | {t for targets in allowed.values() for t in targets}) - values
        if missing or unknown:
            raise ValueError(
                f"{noun} transitions: statuses without a row {sorted(missing)}, "
                f"unknown statuses {sorted(unknown)}"
            )
        self.noun = noun
        self.error = error
        self.statuses = statuses
        self.allowed: dict[str, frozenset[str]] = {
            str(k): frozenset(str(t) for t in v) for k, v in allowed.items()
        }

    def can(self, from_status: str, to_status: str) -> bool:
        return str(to_status) in self.allowed.get(str(from_status), frozenset())

    def label(self, status: str) -> str:
        try:
            return str(self.statuses(status).label).lower()
        except ValueError:
            return str(status)

    def check(self, *, document: Any, from_status: str, to_status: str) -> None:
        """Raise the machine's error (InvalidTransition unless given; field ``status``) unless
        ``from_status -> to_status`` is in the table."""
        if not self.can(from_status, to_status):
            raise self.error(
                TRANSITION_REFUSED.format(
                    noun=self.noun,
                    document=document,
                    from_status=self.label(from_status),
                    to_status=self.label(to_status),
                ),
                field="status",
            )

    def pairs(self) -> list[tuple[str, str]]:
        """Every (from, to) pair of statuses, allowed or not (for tests that walk them all)."""
        values = [str(v) for v in self.statuses.values]
        return [(a, b) for a in values for b in values]
