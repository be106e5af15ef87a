"""Input rules for client data; each message names the field and the rule."""

from __future__ import annotations

import re

from caseledger.clients.countries import CODES, country_code
from caseledger.clients.exceptions import ClientError

# USCIS prints A-numbers of 7, 8 or 9 digits ("A12345678", "A-012-345-678"); all are stored as
# "A" plus nine digits, zero-padded, so one person has one value (and one lookup hash).
A_NUMBER_RE = re.compile(r"^A?(\d{7,9})$")
# The USCIS online account number: 12 digits, printed on notices from online filings.
ONLINE_ACCOUNT_RE = re.compile(r"^\d{12}$")
SSN_RE = re.compile(r"^(\d{3})-?(\d{2})-?(\d{4})$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")

A_NUMBER_INVALID = (
    "a_number: must be 'A' followed by 7, 8 or 9 digits, e.g. A012345678 (got {value!r})"
)
ONLINE_ACCOUNT_INVALID = (
    "uscis_online_account_number: must be 12 digits, e.g. 0123-4567-8901 (got {value!r})"
)
SSN_INVALID = "ssn_itin: must be 9 digits, written 123-45-6789 or 123456789 (got {value!r})"
PASSPORT_INVALID = "passport_number: must be 5 to 20 letters or digits (got {value!r})"
PASSPORT_COUNTRY_REQUIRED = "passport_country: required when a passport number is given"
COUNTRY_INVALID = (
    "{field}: must be an ISO 3166 alpha-2 country code such as IN or MX (got {value!r})"
)


def normalize_a_number(value: str) -> str:
    """'a-12 345 678' -> 'A012345678': 'A' and nine digits, zero-padded (USCIS writes 7, 8 or 9
    digits; spaces, hyphens and dots are separators). Raises ClientError for anything else."""
    raw = (value or "").strip()
    if not raw:
        return ""
    cleaned = re.sub(r"[\s\-.]", "", raw).upper()
    match = A_NUMBER_RE.match(cleaned)
    if not match:
        raise ClientError(A_NUMBER_INVALID.format(value=raw), field="a_number")
    return "A" + match.group(1).zfill(9)


def normalize_online_account(value: str) -> str:
    """'0123-4567-8901' -> '012345678901'; '' stays ''; anything but 12 digits is refused."""
    raw = (value or "").strip()
    if not raw:
        return ""
    cleaned = re.sub(r"[\s\-.]", "", raw)
    if not ONLINE_ACCOUNT_RE.match(cleaned):
        raise ClientError(
            ONLINE_ACCOUNT_INVALID.format(value=raw), field="uscis_online_account_number"
        )
    return cleaned


def normalize_ssn(value: str) -> str:
    raw = (value or "").strip()
    if not raw:
        return ""
    match = SSN_RE.match(raw.replace(" ", ""))
    if not match:
        raise ClientError(SSN_INVALID.format(value=raw), field="ssn_itin")
    return "-".join(match.groups())


def normalize_passport(number: str, country: str) -> tuple[str, str]:
    raw = (number or "").strip()
    country = _iso_country(country)
    if not raw:
        if country and country not in CODES:
            raise ClientError(
                COUNTRY_INVALID.format(field="passport_country", value=country),
                field="passport_country",
            )
        return "", country
    cleaned = re.sub(r"\s", "", raw).upper()
    if not PASSPORT_RE.match(cleaned):
        raise ClientError(PASSPORT_INVALID.format(value=raw), field="passport_number")
    if not country:
        raise ClientError(PASSPORT_COUNTRY_REQUIRED, field="passport_country")
    if country not in CODES:
        raise ClientError(
            COUNTRY_INVALID.format(field="passport_country", value=country),
            field="passport_country",
        )
    return cleaned, country


def _iso_country(value: str) -> str:
    """The ISO code for ``value`` (code, alias or English name), else the value upper-cased
    (then refused by the caller)."""
    code = country_code(value)
    return code if code is not None else (value or "").strip().upper()


def normalize_country(value: str, field: str) -> str:
    """``value`` as an ISO 3166 alpha-2 code ("" when blank); refuses anything else."""
    country = _iso_country(value)
    if country and country not in CODES:
        raise ClientError(COUNTRY_INVALID.format(field=field, value=value), field=field)
    return country
