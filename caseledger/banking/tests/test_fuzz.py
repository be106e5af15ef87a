"""Any bytes at all, and every fixture with bytes changed or cut short, either parse and check
or are refused with StatementRefused: never another exception (a page would answer 500)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from caseledger.banking import checks
from caseledger.banking.exceptions import StatementRefused
from caseledger.banking.parsers import parse_file
from caseledger.banking.tests.factories import FIXTURES

SAMPLES = sorted(p.read_bytes() for p in FIXTURES.iterdir())


def _parse_and_check(content: bytes) -> None:
    message = "ok"
    try:
        _, statements = parse_file(content)
        for statement in statements:
            checks.check_statement(statement, today=date(2026, 12, 31))
    except StatementRefused as exc:
        message = exc.message
    assert message  # a refusal always says why


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=400))
def test_arbitrary_bytes(content: bytes) -> None:
    _parse_and_check(content)


@settings(max_examples=300, deadline=None)
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.floats(min_value=0, max_value=1),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=3)), max_size=4),
)
def test_damaged_fixtures(sample: bytes, cut: float, edits: list[tuple[float, bytes]]) -> None:
    content = bytearray(sample[: max(1, int(len(sample) * (0.5 + cut / 2)))])
    for where, replacement in edits:
        i = int(where * (len(content) - 1))
        content[i : i + len(replacement)] = replacement
    _parse_and_check(bytes(content))


@settings(max_examples=150, deadline=None)
@given(
    sample=st.sampled_from(SAMPLES),
    token=st.sampled_from([b"3", b"4", b"x", b"-", b"", b",", b"1e9", b"NaN", b"99999999999999"]),
    target=st.sampled_from(
        [
            b"<NbOfNtries>3",
            b"<NbOfTxs>2",
            b"2500.00",
            b"USD",
            b"2026-03",
            b"010,",
            b"16,165",
            b":60F:C",
            b"<TRNAMT>",
            b"-1.50",
            b"1.250,00",
        ]
    ),
)
def test_fields_replaced(sample: bytes, token: bytes, target: bytes) -> None:
    _parse_and_check(sample.replace(target, target[:-1] + token, 1))
