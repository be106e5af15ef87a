from __future__ import annotations

import pytest

from caseledger.clients import validators
from caseledger.clients.exceptions import ClientError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # USCIS writes 7, 8 or 9 digits; stored as A plus nine digits, zero-padded.
        ("A1234567", "A001234567"),
        ("A12345678", "A012345678"),
        ("A012345678", "A012345678"),
        ("A-012-345-678", "A012345678"),
        ("A123456789", "A123456789"),
        ("a-123-456-789", "A123456789"),
        (" A 123 456 78 ", "A012345678"),
        ("A.012.345.678", "A012345678"),
        ("012345678", "A012345678"),
        ("", ""),
    ],
)
def test_a_number_normalized(raw, expected):
    assert validators.normalize_a_number(raw) == expected


@pytest.mark.parametrize(
    "raw", ["A123456", "A1234567890", "B12345678", "AX2345678", "A12_345_678", "AA12345678"]
)
def test_a_number_refused_with_message(raw):
    with pytest.raises(ClientError) as exc:
        validators.normalize_a_number(raw)
    assert exc.value.message == validators.A_NUMBER_INVALID.format(value=raw)
    assert exc.value.field == "a_number"


def test_ssn_forms():
    assert validators.normalize_ssn("123456789") == "123-45-6789"
    assert validators.normalize_ssn("912-70-1234") == "912-70-1234"
    with pytest.raises(ClientError) as exc:
        validators.normalize_ssn("12-345-678")
    assert (
        exc.value.message
        == "ssn_itin: must be 9 digits, written 123-45-6789 or 123456789 (got '12-345-678')"
    )


def test_passport_needs_country_and_shape():
    assert validators.normalize_passport("z 1234567", "in") == ("Z1234567", "IN")
    with pytest.raises(ClientError) as exc:
        validators.normalize_passport("Z1234567", "")
    assert exc.value.message == validators.PASSPORT_COUNTRY_REQUIRED
    # An English name or a common alias stands for its ISO code; anything else is refused.
    assert validators.normalize_passport("Z1234567", "India") == ("Z1234567", "IN")
    assert validators.normalize_country("uk", "country") == "GB"
    with pytest.raises(ClientError) as exc:
        validators.normalize_passport("Z1234567", "Narnia")
    assert exc.value.field == "passport_country"
    with pytest.raises(ClientError) as exc:
        validators.normalize_country("XQ", "country_of_citizenship")
    assert exc.value.message == validators.COUNTRY_INVALID.format(
        field="country_of_citizenship", value="XQ"
    )
    with pytest.raises(ClientError) as exc:
        validators.normalize_passport("12#4", "IN")
    assert exc.value.message == "passport_number: must be 5 to 20 letters or digits (got '12#4')"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("012345678901", "012345678901"),
        ("0123-4567-8901", "012345678901"),
        (" 0123 4567 8901 ", "012345678901"),
        ("", ""),
    ],
)
def test_online_account_number_normalized(raw, expected):
    assert validators.normalize_online_account(raw) == expected


@pytest.mark.parametrize("raw", ["01234567890", "0123456789012", "A12345678901"])
def test_online_account_number_refused(raw):
    with pytest.raises(ClientError) as exc:
        validators.normalize_online_account(raw)
    assert exc.value.message == validators.ONLINE_ACCOUNT_INVALID.format(value=raw)
    assert exc.value.field == "uscis_online_account_number"
