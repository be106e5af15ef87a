from __future__ import annotations

import pytest

from caseledger.matters.exceptions import MatterError
from caseledger.matters.validators import (
    RECEIPT_INVALID,
    normalize_receipt_number,
    validate_stage_code,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EAC2490012345", "EAC2490012345"),
        ("wac-24-900-12345", "WAC2490012345"),
        ("IOE 0912345678", "IOE0912345678"),
        ("MSC2191012345", "MSC2191012345"),
        # USCIS notices and clients write separators: spaces, hyphens and dots are all accepted
        ("EAC 21 900 12345", "EAC2190012345"),
        ("EAC-219-001-2345", "EAC2190012345"),
        ("eac.2190.012345", "EAC2190012345"),
        ("IOE-09.12 345678", "IOE0912345678"),
        ("\tLIN2190012345 ", "LIN2190012345"),
    ],
)
def test_receipt_numbers_accepted(raw, expected):
    assert normalize_receipt_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["EAC249001234", "EAC24900123456", "EA2490012345", "", "EAC24900A2345", "EAC_2490012345"],
)
def test_receipt_number_shape_refused(raw):
    with pytest.raises(MatterError) as exc:
        normalize_receipt_number(raw)
    assert exc.value.message == RECEIPT_INVALID.format(value=raw)
    assert exc.value.field == "receipt_number"


def test_unknown_service_centre_prefix_refused():
    with pytest.raises(MatterError) as exc:
        normalize_receipt_number("ABC2490012345")
    assert exc.value.message.startswith(
        "receipt_number: ABC is not a known USCIS service-centre prefix (known: EAC, WAC, LIN"
    )


@pytest.mark.parametrize("code", ["prepare_filing", "intake", "eta9089_filed"])
def test_stage_codes_lower_snake(code):
    assert validate_stage_code(code) == code


@pytest.mark.parametrize("code", ["Prepare Filing", "prepare-filing", "_x", "x__y", "9a"])
def test_bad_stage_codes(code):
    with pytest.raises(MatterError) as exc:
        validate_stage_code(code)
    assert exc.value.field == "code"
