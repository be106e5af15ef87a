"""OFX / QFX 1.x (SGML) and 2.x (XML) through ``ofxtools``: bank (``STMTRS``) and credit-card
(``CCSTMTRS``) statements, any number per file, each with its own account. Investment
statements (``INVSTMTRS``) are refused. OFX states only the closing (ledger) balance, so the
opening is the closing less the entries (``opening_stated`` False)."""

from __future__ import annotations

import io
from typing import Any

from ofxtools.Parser import OFXTree

from caseledger.banking.parsers.base import (
    FILE_INVESTMENT,
    FILE_MALFORMED,
    FILE_NO_STATEMENT,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
    to_cents,
)


def parse(content: bytes) -> list[ParsedStatement]:
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(content))
        ofx = tree.convert()
        statements = list(ofx.statements)
    except Exception as exc:  # ofxtools raises many kinds (header, SGML, schema) for bad input
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise StatementRefused(FILE_MALFORMED.format(format="OFX", detail=detail)) from None
    kinds = [type(s).__name__ for s in statements]
    if "INVSTMTRS" in kinds:
        raise StatementRefused(FILE_INVESTMENT.format(found="OFX INVSTMTRS"))
    if not statements:
        raise StatementRefused(FILE_NO_STATEMENT.format(format="OFX"))
    return [_statement(s) for s in statements]


def _statement(s: Any) -> ParsedStatement:
    currency = str(s.curdef)
    account = str(s.account.acctid)
    where = f"OFX account {account}"
    lines = []
    tranlist = s.banktranlist
    for n, t in enumerate(tranlist or [], start=1):
        lines.append(
            ParsedLine(
                booking_date=t.dtposted.date(),
                value_date=t.dtavail.date() if getattr(t, "dtavail", None) else None,
                amount_cents=to_cents(t.trnamt, currency, f"{where} transaction {n}"),
                description=str(t.memo or t.name or ""),
                bank_reference=str(t.fitid or ""),
                customer_reference=str(t.checknum or t.refnum or ""),
                counterparty=str(t.name or ""),
                code=str(t.trntype or ""),
            )
        )
    closing = to_cents(s.ledgerbal.balamt, currency, f"{where} ledger balance")
    net = sum(line.amount_cents for line in lines)
    return ParsedStatement(
        format="OFX",
        statement_id="",
        account=account,
        currency=currency,
        period_start=tranlist.dtstart.date() if tranlist is not None else None,
        period_end=(tranlist.dtend.date() if tranlist is not None else s.ledgerbal.dtasof.date()),
        opening_cents=closing - net,
        closing_cents=closing,
        lines=lines,
        opening_stated=False,
    )
