"""Each format read from fixtures written from its published specification, and each file
that must be refused, with the exact message."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.banking import checks
from caseledger.banking.exceptions import StatementRefused
from caseledger.banking.parsers import detect, parse_file
from caseledger.banking.parsers.csvfile import CsvMapping
from caseledger.banking.tests.factories import fixture_bytes

TODAY = date(2026, 4, 30)


def _figures(st):  # noqa: ANN001, ANN202
    return (st.opening_cents, st.credits_cents, st.debits_cents, st.closing_cents, len(st.lines))


def test_camt053_v02_two_statements_batch_and_summary() -> None:
    fmt, sts = parse_file(fixture_bytes("camt053_v02_two_statements.xml"))
    assert fmt == "CAMT053"
    assert [s.statement_id for s in sts] == ["STMT-2026-03-A", "STMT-2026-03-B"]
    assert [_figures(s) for s in sts] == [
        (1_000_000, 425_000, 46_000, 1_379_000, 3),
        (1_379_000, 87, 120_000, 1_259_087, 2),
    ]
    first = sts[0]
    assert (first.account, first.currency) == ("4400123456", "USD")
    assert (first.period_start, first.period_end) == (date(2026, 3, 1), date(2026, 3, 15))
    batch = first.lines[1]
    assert batch.amount_cents == 175_000
    assert batch.description == "Deposit slip 0042"
    assert [(d.amount_cents, d.customer_reference, d.counterparty) for d in batch.details] == [
        (100_000, "INV-2026-0041", "Maria Lopez"),
        (75_000, "INV-2026-0042", "Chen Wei"),
    ]
    assert first.lines[0].counterparty == "Acme Corp"
    assert first.lines[0].code == "PMNT/RCDT/DMCT"
    assert first.lines[2].counterparty == "U.S. Citizenship and Immigration Services"
    # Every stated control total (counts, sums, net, batch) agrees.
    assert len(first.controls) == 10
    assert all(c.stated == c.found for c in first.controls)
    interest = sts[1].lines[1]
    assert (interest.bank_reference, interest.amount_cents) == ("", 87)
    for st in sts:
        checks.check_statement(st, today=TODAY)


def test_camt053_v08_status_code_and_pending_entry_left_out() -> None:
    _, [st] = parse_file(fixture_bytes("camt053_v08_overlap.xml"))
    assert _figures(st) == (1_379_000, 300_087, 120_000, 1_559_087, 3)
    assert "REF-0006" not in [line.bank_reference for line in st.lines]
    assert st.lines[2].counterparty == "Globex LLC"
    assert st.lines[2].description == "Trust request TR-000031"
    checks.check_statement(st, today=TODAY)


def test_camt054_notification_states_no_balances() -> None:
    fmt, [st] = parse_file(fixture_bytes("camt054_v04.xml"))
    assert fmt == "CAMT054"
    assert (st.opening_cents, st.closing_cents) == (None, None)
    assert [line.amount_cents for line in st.lines] == [82_000, -3_500]
    checks.check_statement(st, today=TODAY)


def test_ofx1_several_accounts_and_a_credit_card() -> None:
    fmt, sts = parse_file(fixture_bytes("ofx1_two_accounts_and_card.ofx"))
    assert fmt == "OFX"
    assert [s.account for s in sts] == ["4400123456", "4400987654", "4111111111111111"]
    trust = sts[0]
    assert _figures(trust) == (1_000_000, 250_087, 46_000, 1_204_087, 3)
    assert trust.opening_stated is False
    assert trust.lines[1].customer_reference == "1042"
    assert trust.lines[0].bank_reference == "T-20260303-1"
    assert sts[2].closing_cents == -8_999


def test_ofx2_xml() -> None:
    fmt, [st] = parse_file(fixture_bytes("ofx2_operating.ofx"))
    assert fmt == "OFX"
    assert _figures(st) == (2_500_000, 400_000, 150_000, 2_750_000, 2)


def test_bai2_continuation_records_and_control_totals() -> None:
    fmt, [st] = parse_file(fixture_bytes("bai2_continuation.bai"))
    assert fmt == "BAI2"
    assert _figures(st) == (2_000_000, 520_000, 153_000, 2_367_000, 4)
    # The 88 continuation record continues the text of the 16 record before it.
    assert st.lines[0].description == "STRIPE PAYOUT po_1Nq March card settlements"
    assert st.lines[2].description == "Rent March LANDLORD LLC"
    assert st.lines[2].customer_reference == "1043"
    assert all(c.stated == c.found for c in st.controls)
    checks.check_statement(st, today=TODAY)


def test_mt940_two_messages_with_swift_blocks() -> None:
    fmt, sts = parse_file(fixture_bytes("mt940_two_statements.sta"))
    assert fmt == "MT940"
    assert [s.statement_id for s in sts] == ["OPS-2026-03-A:00031/001", "OPS-2026-03-B:00032/001"]
    assert [_figures(s) for s in sts] == [
        (2_000_000, 400_000, 150_000, 2_250_000, 2),
        (2_250_000, 120_000, 3_000, 2_367_000, 3),
    ]
    assert sts[0].lines[0].bank_reference == "BK-5001"
    assert sts[1].lines[1].bank_reference == ""  # NONREF and no bank reference
    assert checks.account_matches(sts[0].account, "4400987654")


def test_csv_utf8_bom_newest_first_with_running_balance() -> None:
    fmt, [st] = parse_file(fixture_bytes("csv_us_bom_newest_first.csv"), currency="USD")
    assert fmt == "CSV"
    assert _figures(st) == (1_998_500, 520_000, 151_500, 2_367_000, 4)
    assert [line.booking_date.day for line in st.lines] == [5, 10, 20, 31]  # oldest first


def test_csv_windows_1252_decimal_comma_debit_credit() -> None:
    fmt, [st] = parse_file(fixture_bytes("csv_de_cp1252_decimal_comma.csv"), currency="EUR")
    assert fmt == "CSV"
    assert _figures(st) == (1_000_000, 125_045, 8_990, 1_116_055, 3)
    assert st.lines[0].description == "Überweisung Müller Gebühr"
    assert st.lines[1].amount_cents == -8_990


def test_csv_ambiguous_dates_need_a_mapping() -> None:
    with pytest.raises(StatementRefused) as exc:
        parse_file(fixture_bytes("csv_ambiguous_dates.csv"))
    assert exc.value.message == (
        "date: the dates in column 'Date' read in more than one way (%m/%d/%Y or %d/%m/%Y; "
        "e.g. '01/02/2026'); save a column mapping with the date format for this account first"
    )
    mapping = CsvMapping(
        header=["Date", "Description", "Amount"],
        date="Date",
        date_format="%d/%m/%Y",
        amount="Amount",
        description="Description",
    )
    _, [st] = parse_file(fixture_bytes("csv_ambiguous_dates.csv"), csv_mapping=mapping)
    assert [line.booking_date for line in st.lines] == [
        date(2026, 2, 1),
        date(2026, 4, 3),
        date(2026, 6, 5),
    ]
    assert (st.opening_cents, st.closing_cents) == (None, None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "camt052_intraday.xml",
            "file: an intraday report (camt.052.001.08) is not a statement; import the "
            "end-of-day statement instead",
        ),
        (
            "mt942_intraday.sta",
            "file: an intraday report (MT942) is not a statement; import the end-of-day "
            "statement instead",
        ),
        (
            "ofx_investment.ofx",
            "file: an investment statement (OFX INVSTMTRS) is not a bank statement; export the "
            "bank or credit-card account instead",
        ),
        (
            "camt053_entity_expansion.xml",
            "file: the XML declares a document type or entities, which statement files never "
            "need; refused for safety",
        ),
        (
            "bai2_bad_control_total.bai",
            "file: BAI2 control totals do not agree (Invalid account control total for "
            "Account. expected 5713100, found 5713000)",
        ),
    ],
)
def test_refused_files(name: str, message: str) -> None:
    with pytest.raises(StatementRefused) as exc:
        parse_file(fixture_bytes(name))
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"%PDF-1.7\n...", "a PDF document"),
        (b"PK\x03\x04rest", "a ZIP archive or Excel workbook"),
        (b"!Type:Bank\nD03/01/2026\n", "QIF"),
        (b'{"transactions": []}', "JSON"),
        (b"<html><body>statement</body></html>", "XML with root element html"),
        (
            b'<?xml version="1.0"?>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>',
            "XML with root element Document in urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
        ),
        (b"Dear customer, your statement is attached.", "text that is not a CSV table"),
    ],
)
def test_unknown_formats_are_named(content: bytes, found: str) -> None:
    with pytest.raises(StatementRefused) as exc:
        detect(content)
    assert exc.value.message == (
        f"file: unknown statement format ({found}); expected CSV, OFX/QFX, camt.053/camt.054, "
        "BAI2 or MT940"
    )


def test_unbalanced_statement_refused_with_figures() -> None:
    _, [st] = parse_file(fixture_bytes("camt053_unbalanced.xml"))
    with pytest.raises(StatementRefused) as exc:
        checks.check_statement(st, today=TODAY)
    assert exc.value.message == (
        "balance: statement STMT-BAD does not balance: opening 1,000.00 + credits 100.00 - "
        "debits 0.00 = 1,100.00, but the closing balance is 1,150.00 (difference 50.00)"
    )
    assert exc.value.field == "balance"


def test_control_total_mismatch_refused() -> None:
    content = fixture_bytes("camt053_v02_two_statements.xml").replace(
        b"<NbOfNtries>3</NbOfNtries>", b"<NbOfNtries>4</NbOfNtries>"
    )
    _, sts = parse_file(content)
    with pytest.raises(StatementRefused) as exc:
        checks.check_statement(sts[0], today=TODAY)
    assert exc.value.message == (
        "control_total: statement STMT-2026-03-A number of entries: the file states 4, its "
        "entries give 3"
    )


def test_batch_total_mismatch_refused() -> None:
    content = fixture_bytes("camt053_v02_two_statements.xml").replace(
        b'<Amt Ccy="USD">750.00</Amt>', b'<Amt Ccy="USD">740.00</Amt>'
    )
    _, sts = parse_file(content)
    with pytest.raises(StatementRefused) as exc:
        checks.check_statement(sts[0], today=TODAY)
    assert "batch total: the file states 175000, its entries give 174000" in exc.value.message


def test_future_dated_statement_refused() -> None:
    _, sts = parse_file(fixture_bytes("camt053_v02_two_statements.xml"))
    with pytest.raises(StatementRefused) as exc:
        checks.check_statement(sts[1], today=date(2026, 3, 30))
    assert exc.value.message == (
        "date: statement STMT-2026-03-B is dated 2026-03-31, after today (2026-03-30); a "
        "statement cannot be in the future"
    )


def test_account_and_currency_selection() -> None:
    _, sts = parse_file(fixture_bytes("ofx1_two_accounts_and_card.ofx"))
    [mine] = checks.select_for_account(sts, number="4400 987654", currency="USD", name="Ops")
    assert mine.account == "4400987654"
    with pytest.raises(StatementRefused) as exc:
        checks.select_for_account(sts, number="5500000001", currency="USD", name="Escrow")
    assert exc.value.message == (
        "account: the file is for account ••••1111, ••••3456, ••••7654, not for ••••0001 "
        "(Escrow); choose that bank account or export this one's statement"
    )
    with pytest.raises(StatementRefused) as exc:
        checks.select_for_account(sts, number="4400123456", currency="EUR", name="IOLTA")
    assert exc.value.message == "currency: statement is in USD, the bank account IOLTA in EUR"
