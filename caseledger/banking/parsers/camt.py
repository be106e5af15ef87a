"""ISO 20022 bank-to-customer cash management: camt.053 (statements) and camt.054 (debit and
credit notifications), message versions .02 to .08; camt.052 (intraday account reports) is
recognised and refused.

Parsed with ``defusedxml`` with DTDs forbidden, so no entity is ever expanded (billion laughs,
external entities). Several statements (``Stmt``) or notifications (``Ntfctn``) per file. Only
booked entries count (``Sts`` BOOK; pending and information entries are not on the account).
A batch entry (``NtryDtls/Btch`` and several ``TxDtls``) stays one line, as it is one movement
on the account; its transaction details are kept on the line and their count and sum are
checked against the batch. Balances are taken as stated: opening OPBD (or PRCD), closing CLBD;
``TxsSummry`` totals become control totals.

``write`` produces camt.053 for given statements (the demo, the benchmark and the round-trip
tests use it).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # writing only; reading goes through defusedxml
from datetime import date
from decimal import Decimal
from typing import Any

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import fromstring

from caseledger.banking.parsers.base import (
    FILE_INTRADAY,
    FILE_MALFORMED,
    FILE_NO_STATEMENT,
    FILE_UNKNOWN_FORMAT,
    Control,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
    TxDetail,
    to_cents,
)
from caseledger.core.money import CURRENCY_EXPONENTS

NS_RE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d\d)\}Document$")
SUPPORTED_VERSIONS = {"02", "03", "04", "05", "06", "07", "08"}
CAMT_VERSION_UNSUPPORTED = (
    "file: camt.{message}.001.{version} is not a supported version (camt.053 and camt.054 "
    "versions .02 to .08)"
)
CAMT_DTD = (
    "file: the XML declares a document type or entities, which statement files never need; "
    "refused for safety"
)
CAMT_NO_CURRENCY = "{where}: no currency stated on the account or its balances"
CAMT_COUNT_INVALID = "{where}: {text!r} is not a number of entries"
CAMT_DATE_MISSING = "date: {where} has no booking date"
CAMT_BALANCE_CURRENCY = "currency: {where} balance {code} is in {found}, the account in {currency}"
CAMT_ENTRY_CURRENCY = "currency: {where} is in {found}, the statement in {currency}"
CAMT_DATE_INVALID = "{where}: {text!r} is not a date"


def _date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise StatementRefused(CAMT_DATE_INVALID.format(where=where, text=text)) from None


class _Reader:
    """Namespaced look-ups, one child step at a time: ``Element.find`` with a plain tag is the
    C fast path, a path with '/' goes through ElementPath (several times slower)."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._steps: dict[str, tuple[str, ...]] = {}

    def steps(self, tags: str) -> tuple[str, ...]:
        found = self._steps.get(tags)
        if found is None:
            found = self._steps[tags] = tuple(f"{{{self.ns}}}{t}" for t in tags.split("/"))
        return found

    def find(self, el: Any, tags: str) -> Any:
        for step in self.steps(tags):
            el = el.find(step)
            if el is None:
                return None
        return el

    def findall(self, el: Any, tags: str) -> list[Any]:
        *parents, last = self.steps(tags)
        for step in parents:
            el = el.find(step)
            if el is None:
                return []
        return list(el.findall(last))

    def text(self, el: Any, *alternatives: str) -> str:
        for tags in alternatives:
            found = self.find(el, tags)
            if found is not None and found.text:
                return str(found.text).strip()
        return ""


def detect(root_tag: str) -> tuple[str, str] | None:
    """('053'|'054'|'052', version) when the root element is an ISO 20022 camt Document."""
    m = NS_RE.match(root_tag)
    return (m.group(1), m.group(2)) if m else None


def parse(content: bytes) -> list[ParsedStatement]:
    try:
        root = fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden):
        raise StatementRefused(CAMT_DTD) from None
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise StatementRefused(FILE_MALFORMED.format(format="camt XML", detail=exc)) from None
    found = detect(root.tag)
    if found is None:
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found=f"XML root {root.tag}"))
    message, version = found
    if message == "052":
        raise StatementRefused(FILE_INTRADAY.format(found=f"camt.052.001.{version}"))
    if version not in SUPPORTED_VERSIONS:
        raise StatementRefused(CAMT_VERSION_UNSUPPORTED.format(message=message, version=version))
    ns = root.tag[1 : root.tag.index("}")]
    r = _Reader(ns)
    fmt = "CAMT053" if message == "053" else "CAMT054"
    container, item = (
        ("BkToCstmrStmt", "Stmt") if message == "053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    )
    body = r.find(root, container)
    items = r.findall(body, item) if body is not None else []
    if not items:
        raise StatementRefused(FILE_NO_STATEMENT.format(format=f"camt.{message}"))
    return [_statement(r, el, fmt, version) for el in items]


def _amount(r: _Reader, el: Any, where: str, currency: str) -> tuple[int, str]:
    """(signed cents, currency) of an element holding Amt and CdtDbtInd."""
    amt = r.find(el, "Amt")
    ccy = (amt.get("Ccy") or currency) if amt is not None else currency
    cents = to_cents(amt.text if amt is not None and amt.text else "", ccy, where)
    if r.text(el, "CdtDbtInd") == "DBIT":
        cents = -cents
    return cents, ccy


def _statement(r: _Reader, el: Any, fmt: str, version: str) -> ParsedStatement:
    stmt_id = r.text(el, "Id")
    where = f"statement {stmt_id}" if stmt_id else "statement"
    account = r.text(el, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    currency = r.text(el, "Acct/Ccy")
    balances: dict[str, tuple[int, date | None]] = {}
    for bal in r.findall(el, "Bal"):
        code = r.text(bal, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
        amt = r.find(bal, "Amt")
        ccy = amt.get("Ccy") if amt is not None else ""
        currency = currency or ccy or ""
        if not currency:
            raise StatementRefused(CAMT_NO_CURRENCY.format(where=where))
        if ccy and ccy != currency:
            raise StatementRefused(
                CAMT_BALANCE_CURRENCY.format(where=where, code=code, found=ccy, currency=currency)
            )
        cents, _ = _amount(r, bal, f"{where} balance {code}", currency)
        balances.setdefault(code, (cents, _date(r.text(bal, "Dt/Dt", "Dt/DtTm"), where)))
    if not currency:
        currency = _first_entry_currency(r, el)
    if not currency:
        raise StatementRefused(CAMT_NO_CURRENCY.format(where=where))
    opening = balances.get("OPBD") or balances.get("PRCD")
    closing = balances.get("CLBD")
    lines: list[ParsedLine] = []
    controls: list[Control] = []
    for n, ntry in enumerate(r.findall(el, "Ntry"), start=1):
        status = r.text(ntry, "Sts/Cd", "Sts")
        if status and status != "BOOK":
            continue  # pending or information only: not on the account yet
        line, line_controls = _entry(r, ntry, f"{where} entry {n}", currency)
        lines.append(line)
        controls.extend(line_controls)
    summary = r.find(el, "TxsSummry")
    if summary is not None:
        controls.extend(_summary_controls(r, summary, lines, currency, where))
    period_start = _date(r.text(el, "FrToDt/FrDtTm"), where) or (opening[1] if opening else None)
    period_end = _date(r.text(el, "FrToDt/ToDtTm"), where) or (closing[1] if closing else None)
    if period_end is None and lines:
        period_end = max(line.booking_date for line in lines)
    return ParsedStatement(
        format=fmt,
        statement_id=stmt_id,
        account=account,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        opening_cents=opening[0] if opening else None,
        closing_cents=closing[0] if closing else None,
        lines=lines,
        controls=controls,
        opening_stated=opening is not None,
    )


def _first_entry_currency(r: _Reader, el: Any) -> str:
    for ntry in r.findall(el, "Ntry"):
        amt = r.find(ntry, "Amt")
        if amt is not None and amt.get("Ccy"):
            return str(amt.get("Ccy"))
    return ""


def _entry(r: _Reader, ntry: Any, where: str, currency: str) -> tuple[ParsedLine, list[Control]]:
    cents, ccy = _amount(r, ntry, where, currency)
    if ccy != currency:
        raise StatementRefused(
            CAMT_ENTRY_CURRENCY.format(where=where, found=ccy, currency=currency)
        )
    booked = _date(r.text(ntry, "BookgDt/Dt", "BookgDt/DtTm"), where)
    if booked is None:
        raise StatementRefused(CAMT_DATE_MISSING.format(where=where))
    details: list[TxDetail] = []
    controls: list[Control] = []
    sign = -1 if cents < 0 else 1
    for nd in r.findall(ntry, "NtryDtls"):
        txs = r.findall(nd, "TxDtls")
        for _i, tx in enumerate(txs, start=1):
            amt_el = r.find(tx, "Amt")
            if amt_el is None:
                amt_el = r.find(tx, "AmtDtls/TxAmt/Amt")
            tx_cents = None
            if amt_el is not None and amt_el.text:
                tx_cents = sign * to_cents(amt_el.text, amt_el.get("Ccy") or currency, where)
            details.append(
                TxDetail(
                    amount_cents=tx_cents,
                    bank_reference=r.text(tx, "Refs/AcctSvcrRef", "Refs/TxId"),
                    customer_reference=_reference(r.text(tx, "Refs/EndToEndId", "Refs/InstrId")),
                    counterparty=_party(r, tx, cents),
                    description=" ".join(
                        t.text.strip() for t in r.findall(tx, "RmtInf/Ustrd") if t.text
                    )
                    or r.text(tx, "AddtlTxInf"),
                )
            )
        btch = r.find(nd, "Btch")
        if btch is not None:
            stated_n = r.text(btch, "NbOfTxs")
            if stated_n and txs:
                controls.append(
                    Control(f"{where} batch transactions", _count(stated_n, where), len(txs))
                )
            total_el = r.find(btch, "TtlAmt")
            if total_el is not None and total_el.text and txs:
                stated_total = to_cents(total_el.text, total_el.get("Ccy") or currency, where)
                found_total = sum(abs(d.amount_cents or 0) for d in details[-len(txs) :])
                controls.append(Control(f"{where} batch total", stated_total, found_total))
    if len(details) > 1 and all(d.amount_cents is not None for d in details):
        controls.append(
            Control(
                f"{where} transaction details", cents, sum(d.amount_cents or 0 for d in details)
            )
        )
    first = details[0] if len(details) == 1 else None
    description = r.text(ntry, "AddtlNtryInf") or (first.description if first else "")
    if not description and len(details) > 1:
        description = f"Batch of {len(details)} transactions"
    code = r.text(ntry, "BkTxCd/Prtry/Cd")
    domain = r.text(ntry, "BkTxCd/Domn/Cd")
    if domain:
        code = "/".join(
            p
            for p in (
                domain,
                r.text(ntry, "BkTxCd/Domn/Fmly/Cd"),
                r.text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
            )
            if p
        )
    line = ParsedLine(
        booking_date=booked,
        value_date=_date(r.text(ntry, "ValDt/Dt", "ValDt/DtTm"), where),
        amount_cents=cents,
        description=description,
        bank_reference=r.text(ntry, "AcctSvcrRef") or (first.bank_reference if first else ""),
        customer_reference=first.customer_reference if first else "",
        counterparty=first.counterparty if first else "",
        code=code,
        details=tuple(details) if len(details) > 1 else (),
    )
    return line, controls


def _count(text: str, where: str) -> int:
    if not text.isdigit():
        raise StatementRefused(CAMT_COUNT_INVALID.format(where=where, text=text))
    return int(text)


def _reference(text: str) -> str:
    # ISO 20022 writes NOTPROVIDED where the originator gave no end-to-end reference.
    return "" if text == "NOTPROVIDED" else text


def _party(r: _Reader, tx: Any, cents: int) -> str:
    # Money in: the debtor paid us; money out: we paid the creditor. v.08 nests Pty.
    role = "Dbtr" if cents > 0 else "Cdtr"
    return r.text(tx, f"RltdPties/{role}/Nm", f"RltdPties/{role}/Pty/Nm")


def _summary_controls(
    r: _Reader, summary: Any, lines: list[ParsedLine], currency: str, where: str
) -> list[Control]:
    out: list[Control] = []
    credits = [x.amount_cents for x in lines if x.amount_cents > 0]
    debits = [-x.amount_cents for x in lines if x.amount_cents < 0]
    for tag, label, values in (
        ("TtlNtries", "entries", [abs(x.amount_cents) for x in lines]),
        ("TtlCdtNtries", "credit entries", credits),
        ("TtlDbtNtries", "debit entries", debits),
    ):
        block = r.find(summary, tag)
        if block is None:
            continue
        count = r.text(block, "NbOfNtries")
        if count:
            out.append(Control(f"{where} number of {label}", _count(count, where), len(values)))
        total = r.text(block, "Sum")
        if total:
            out.append(
                Control(f"{where} sum of {label}", to_cents(total, currency, where), sum(values))
            )
        if tag == "TtlNtries":
            net = r.text(block, "TtlNetNtry/Amt", "TtlNetNtryAmt")
            if net:
                sign = r.text(block, "TtlNetNtry/CdtDbtInd", "CdtDbtInd")
                stated = to_cents(net, currency, where) * (-1 if sign == "DBIT" else 1)
                out.append(
                    Control(f"{where} net of entries", stated, sum(x.amount_cents for x in lines))
                )
    return out


# -- writing ------------------------------------------------------------------------------


def _money(cents: int, currency: str) -> str:
    places = CURRENCY_EXPONENTS[currency]
    return str(Decimal(abs(cents)).scaleb(-places)) if places else str(abs(cents))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _amt(parent: ET.Element, cents: int, currency: str, tag: str = "Amt") -> None:
    _sub(parent, tag, _money(cents, currency), Ccy=currency)
    _sub(parent, "CdtDbtInd", "DBIT" if cents < 0 else "CRDT")


def write(
    statements: list[ParsedStatement], *, message_id: str = "MSG-1", version: str = "08"
) -> bytes:
    """camt.053.001.<version> with the given statements (each with its opening and closing
    balance, a transactions summary and one booked entry per line)."""
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    ET.register_namespace("", ns)
    doc = ET.Element(f"{{{ns}}}Document")
    body = _sub(doc, "BkToCstmrStmt")
    hdr = _sub(body, "GrpHdr")
    _sub(hdr, "MsgId", message_id)
    _sub(hdr, "CreDtTm", "2026-01-01T00:00:00")
    new_status = int(version) >= 6
    for st in statements:
        s = _sub(body, "Stmt")
        _sub(s, "Id", st.statement_id)
        _sub(s, "CreDtTm", "2026-01-01T00:00:00")
        if st.period_start and st.period_end:
            period = _sub(s, "FrToDt")
            _sub(period, "FrDtTm", f"{st.period_start.isoformat()}T00:00:00")
            _sub(period, "ToDtTm", f"{st.period_end.isoformat()}T23:59:59")
        acct = _sub(s, "Acct")
        acct_id = _sub(acct, "Id")
        if re.match(r"^[A-Z]{2}\d\d", st.account):
            _sub(acct_id, "IBAN", st.account)
        else:
            _sub(_sub(acct_id, "Othr"), "Id", st.account)
        _sub(acct, "Ccy", st.currency)
        for code, cents, day in (
            ("OPBD", st.opening_cents, st.period_start),
            ("CLBD", st.closing_cents, st.period_end),
        ):
            if cents is None:
                continue
            bal = _sub(s, "Bal")
            _sub(_sub(_sub(bal, "Tp"), "CdOrPrtry"), "Cd", code)
            _amt(bal, cents, st.currency)
            if day:
                _sub(_sub(bal, "Dt"), "Dt", day.isoformat())
        summary = _sub(s, "TxsSummry")
        ttl = _sub(summary, "TtlNtries")
        _sub(ttl, "NbOfNtries", str(len(st.lines)))
        _sub(ttl, "Sum", _money(sum(abs(x.amount_cents) for x in st.lines), st.currency))
        net = sum(x.amount_cents for x in st.lines)
        if version == "02":
            _sub(ttl, "TtlNetNtryAmt", _money(net, st.currency))
            _sub(ttl, "CdtDbtInd", "DBIT" if net < 0 else "CRDT")
        else:
            net_el = _sub(ttl, "TtlNetNtry")
            _sub(net_el, "Amt", _money(net, st.currency))
            _sub(net_el, "CdtDbtInd", "DBIT" if net < 0 else "CRDT")
        for line in st.lines:
            _write_entry(s, line, st.currency, new_status, version)
    return bytes(ET.tostring(doc, encoding="utf-8", xml_declaration=True))


def _write_entry(
    s: ET.Element, line: ParsedLine, currency: str, new_status: bool, version: str
) -> None:
    e = _sub(s, "Ntry")
    _amt(e, line.amount_cents, currency)
    if new_status:
        _sub(_sub(e, "Sts"), "Cd", "BOOK")
    else:
        _sub(e, "Sts", "BOOK")
    _sub(_sub(e, "BookgDt"), "Dt", line.booking_date.isoformat())
    if line.value_date:
        _sub(_sub(e, "ValDt"), "Dt", line.value_date.isoformat())
    if line.bank_reference:
        _sub(e, "AcctSvcrRef", line.bank_reference)
    tx_code = _sub(e, "BkTxCd")
    parts = (line.code or "PMNT/RCDT/OTHR").split("/")
    domn = _sub(tx_code, "Domn")
    _sub(domn, "Cd", parts[0])
    fmly = _sub(domn, "Fmly")
    _sub(fmly, "Cd", parts[1] if len(parts) > 1 else "OTHR")
    _sub(fmly, "SubFmlyCd", parts[2] if len(parts) > 2 else "OTHR")
    if line.customer_reference or line.counterparty or line.details:
        nd = _sub(e, "NtryDtls")
        txs = line.details or (
            TxDetail(
                amount_cents=None,
                bank_reference="",
                customer_reference=line.customer_reference,
                counterparty=line.counterparty,
                description="",
            ),
        )
        if line.details:
            btch = _sub(nd, "Btch")
            _sub(btch, "NbOfTxs", str(len(txs)))
            _amt(btch, line.amount_cents, currency, tag="TtlAmt")
        for tx in txs:
            t = _sub(nd, "TxDtls")
            refs = _sub(t, "Refs")
            if tx.bank_reference:
                _sub(refs, "AcctSvcrRef", tx.bank_reference)
            _sub(refs, "EndToEndId", tx.customer_reference or "NOTPROVIDED")
            if tx.amount_cents is not None:
                if version == "02":
                    _sub(
                        _sub(_sub(t, "AmtDtls"), "TxAmt"),
                        "Amt",
                        _money(tx.amount_cents, currency),
                        Ccy=currency,
                    )
                else:
                    _sub(t, "Amt", _money(tx.amount_cents, currency), Ccy=currency)
            if tx.counterparty:
                role = "Dbtr" if line.amount_cents > 0 else "Cdtr"
                party = _sub(_sub(t, "RltdPties"), role)
                if version == "08":
                    party = _sub(party, "Pty")
                _sub(party, "Nm", tx.counterparty)
            if tx.description:
                _sub(_sub(t, "RmtInf"), "Ustrd", tx.description)
    if line.description:
        _sub(e, "AddtlNtryInf", line.description)
