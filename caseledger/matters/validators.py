"""Input rules for matters; each message names the field and the rule."""

from __future__ import annotations

import re

from caseledger.matters.choices import RECEIPT_PREFIXES
from caseledger.matters.exceptions import MatterError

RECEIPT_RE = re.compile(r"^([A-Z]{3})(\d{10})$")
STAGE_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

RECEIPT_INVALID = (
    "receipt_number: must be 3 letters and 10 digits, e.g. EAC2490012345 (got {value!r})"
)
RECEIPT_PREFIX_UNKNOWN = (
    "receipt_number: {prefix} is not a known USCIS service-centre prefix (known: {known})"
)
STAGE_CODE_INVALID = (
    "code: must be lower snake case (letters, digits, underscores), e.g. prepare_filing "
    "(got {value!r})"
)


def normalize_receipt_number(value: str) -> str:
    """'eac-24-900-12345', 'EAC 24 900 12345', 'EAC.2490.012345' -> 'EAC2490012345': spaces,
    hyphens and dots are separators; raises MatterError unless prefix + 10 digits."""
    raw = (value or "").strip()
    cleaned = re.sub(r"[\s\-.]", "", raw).upper()
    match = RECEIPT_RE.match(cleaned)
    if not match:
        raise MatterError(RECEIPT_INVALID.format(value=raw), field="receipt_number")
    if match.group(1) not in RECEIPT_PREFIXES:
        raise MatterError(
            RECEIPT_PREFIX_UNKNOWN.format(prefix=match.group(1), known=", ".join(RECEIPT_PREFIXES)),
            field="receipt_number",
        )
    return cleaned


def validate_stage_code(value: str) -> str:
    code = (value or "").strip()
    if not STAGE_CODE_RE.match(code):
        raise MatterError(STAGE_CODE_INVALID.format(value=value), field="code")
    return code
