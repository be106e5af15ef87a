"""Types shared by the API's input schemas: each carries the rule the API enforces, so the
OpenAPI schema states it (a client or a fuzzer reads the limits there) and pydantic refuses a
value outside it with a 422 naming the field, before any service or database sees it.

``Cents``: an amount in minor units is a JSON integer and nothing else. Pydantic's lax mode
would take ``true`` as 1 and ``"100"`` as 100; ``whole_number`` refuses them, and ``1.5``. A
number with a zero fraction (``100.0``) is an integer to JSON Schema, so it is taken as 100 (a
client's JSON library may write integers so). It must be more than 0 and at most the money
type's absolute limit; the firm's own ceiling for a single
amount (a setting, lower) is checked by the services (core.amounts.amount_check), with the same
message as the pages.

``Text(n)``: a string of at most ``n`` characters (the column's length) without NUL characters
(PostgreSQL refuses them in text) and without lone surrogates (not encodable as UTF-8: the
pattern check refuses them, as pydantic cannot read such a string as Unicode).

``Day``: an ISO date between 1990-01-01 and 2100-12-31 (``core.clock.date_check``'s range); the
schema also carries a pattern on the year, as JSON Schema has no minimum for dates.

``Id``, ``Limit``, ``Offset``, ``Count``: integers the database can hold (64-bit ids, 32-bit
counts), so an id beyond 2**63 is a 422, not an overflow in the database driver."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db import models
from pydantic import BeforeValidator, Field, StrictBool, StringConstraints

from caseledger.core.clock import EARLIEST_DATE, LATEST_DATE
from caseledger.core.money import MAX_MINOR_UNITS

# No NUL and no lone surrogate (pydantic cannot match a pattern on one): the only two things
# every text column refuses whatever its length.
NO_NUL = r"^[^\x00]*$"
NO_NUL_MESSAGE = "must not contain NUL characters"
NOT_UNICODE_MESSAGE = "must be valid Unicode text (no lone surrogates)"

MAX_ID = 2**63 - 1
MAX_INT32 = 2**31 - 1

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

NOT_A_WHOLE_NUMBER = "must be a JSON integer (not a string, boolean or fraction)"


def whole_number(value: Any) -> Any:
    """A JSON integer, or a JSON number with a zero fraction, as an int; anything else is
    refused (``true``, ``"100"``, ``1.5``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(NOT_A_WHOLE_NUMBER)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(NOT_A_WHOLE_NUMBER)
        return int(value)
    return value


Cents = Annotated[
    int,
    Field(gt=0, le=MAX_MINOR_UNITS, description="amount in minor units (cents), more than 0"),
    BeforeValidator(whole_number),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A JSON body's true/false and nothing else (lax mode would take 0, 1, "yes"...); query
# parameters stay plain bool (they arrive as text).
Flag = StrictBool
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"rows per page, 1 to {MAX_LIMIT}")]
Offset = Annotated[int, Field(ge=0, le=MAX_INT32, description="rows to skip, 0 or more")]
Count = Annotated[int, Field(ge=0, le=MAX_INT32)]

_YEARS = r"^(199\d|20\d\d|2100)-\d\d-\d\d$"
Day = Annotated[
    dt.date,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        json_schema_extra={
            "pattern": _YEARS,
            "description": (
                f"ISO date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"
            ),
        },
    ),
]


def Text(max_length: int, *, min_length: int = 0, pattern: str | None = None) -> Any:  # noqa: N802
    """A string of ``min_length`` to ``max_length`` characters, no NUL, no lone surrogate;
    ``pattern`` (which must itself exclude NUL) replaces the default pattern."""
    return Annotated[
        str,
        StringConstraints(
            min_length=min_length or None, max_length=max_length, pattern=pattern or NO_NUL
        ),
    ]


def column(model: type[models.Model], name: str, *, min_length: int = 0) -> Any:
    """``Text`` as long as the model's column ``name`` allows (TextField: 10,000)."""
    field = model._meta.get_field(name)
    max_length = getattr(field, "max_length", None) or 10_000
    return Text(max_length, min_length=min_length)


def choice(choices: type[models.TextChoices]) -> Any:
    """One of the values of ``choices``, as an enum in the schema."""
    from typing import Literal

    return Literal[tuple(choices.values)]  # type: ignore[misc]
