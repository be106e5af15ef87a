"""The archived reconciliation report (billing.pdf_layout style): the summary with the three
(or two) balances, the adjusting items, the client ledger listing, and who prepared and signed
it with the report's SHA-256 and chain hash."""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from caseledger.banking.models import Reconciliation
from caseledger.banking.reconciliation.compute import Report
from caseledger.billing.pdf_layout import (
    SMALL,
    Firm,
    details,
    letterhead,
    lines_table,
    para,
    pdf_date,
    render,
    section,
    totals,
)
from caseledger.core.money import Money


def _m(cents: int, currency: str) -> str:
    return Money(int(cents), currency).format()


def _person(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or user)


def _header(rec: Reconciliation, title: str) -> list[Flowable]:
    """The letterhead: firm, title, account, statement date and status."""
    account = rec.bank_account
    return [
        *letterhead(
            Firm.current(),
            title,
            [
                ("Account", f"{account.name} {account.number_masked}"),
                ("Statement date", pdf_date(rec.period_end)),
                ("Status", "Signed" if rec.signed_at else "Prepared"),
            ],
        )
    ]


def _summary(rec: Reconciliation, report: Report) -> list[Flowable]:
    """The summary: the balances side by side and whether they agree to the cent."""
    account = rec.bank_account
    cur = account.currency
    statement = report.statement
    summary = [
        (
            "Bank statement balance"
            + (
                f" (statement to {pdf_date(statement.period_end)})"
                if statement and statement.period_end
                else ""
            ),
            _m(report.bank_balance_cents, cur),
        ),
        ("+ Deposits in transit", _m(report.deposits_in_transit_cents, cur)),
        ("- Outstanding disbursements", _m(report.outstanding_cents, cur)),
        ("= Adjusted bank balance", _m(report.adjusted_bank_cents, cur)),
        (f"Journal balance ({account.ledger_account})", _m(report.journal_cents, cur)),
    ]
    if report.is_trust:
        summary.append(("Sum of client trust ledgers", _m(report.client_total_cents, cur)))
    summary += [
        ("Unrecorded bank items", _m(report.unrecorded_cents, cur)),
        ("Unexplained difference", _m(report.unexplained_cents, cur)),
    ]
    return [
        section(
            "Summary",
            details(summary, label_width=300),
            Spacer(1, 6),
            para(
                "Balanced: all equal to the cent."
                if report.balanced
                else "Not balanced: every difference is listed below with its items.",
            ),
        ),
        Spacer(1, 12),
    ]


def _items(
    title_text: str, rows: list[dict], total_label: str, total: int, cur: str
) -> list[Flowable]:
    """One list of open journal items (deposits in transit or outstanding) with its total."""
    if not rows:
        return [section(title_text, para("None.", SMALL)), Spacer(1, 8)]
    return [
        section(
            title_text,
            lines_table(
                ["Date", "Entry", "Client / matter", "Memo", "Amount"],
                [
                    [
                        str(r["date"]),
                        f"JE-{r['entry']}",
                        " ".join(x for x in (r["client"], r["matter"]) if x),
                        r["memo"],
                        _m(r["amount_cents"], cur),
                    ]
                    for r in rows
                ],
                widths=[60, 50, 150, 160, 84],
                right=[4],
            ),
            totals([(total_label, _m(total, cur))]),
        ),
        Spacer(1, 8),
    ]


def _unrecorded(report: Report, cur: str) -> list[Flowable]:
    """The bank lines not in the journal, if any."""
    if not report.unrecorded:
        return []
    return [
        section(
            "Unrecorded bank items",
            lines_table(
                ["Date", "Line", "Description", "Not in the journal"],
                [
                    [
                        str(r["date"]),
                        str(r["line"]),
                        r["description"],
                        _m(r["amount_cents"], cur),
                    ]
                    for r in report.unrecorded
                ],
                widths=[60, 50, 290, 104],
                right=[3],
            ),
            totals([("Unrecorded bank items", _m(report.unrecorded_cents, cur))]),
        ),
        Spacer(1, 8),
    ]


def _client_ledgers(report: Report, cur: str) -> list[Flowable]:
    """Trust only: the client ledger listing and the ledgers that differ from the trust bank."""
    if not report.is_trust:
        return []
    story: list[Flowable] = [
        section(
            "Client trust ledgers",
            lines_table(
                ["Client", "Matter", "Held in trust"],
                [
                    [
                        r["client"] + (" (NEGATIVE)" if r["balance_cents"] < 0 else ""),
                        r["matter"],
                        _m(r["balance_cents"], cur),
                    ]
                    for r in report.clients
                ]
                or [["None", "", _m(0, cur)]],
                widths=[250, 130, 124],
                right=[2],
            ),
            totals([("Sum of client trust ledgers", _m(report.client_total_cents, cur))]),
        ),
        Spacer(1, 8),
    ]
    if report.client_differences:
        story.append(
            section(
                "Client ledgers that differ from the trust bank",
                lines_table(
                    ["Client", "Matter", "Client ledger", "Trust bank"],
                    [
                        [
                            r["client"],
                            r["matter"],
                            _m(r["balance_cents"], cur),
                            _m(r["bank_cents"], cur),
                        ]
                        for r in report.client_differences
                    ],
                    widths=[200, 110, 97, 97],
                    right=[2, 3],
                ),
            )
        )
    return story


def _sign_off(rec: Reconciliation) -> list[Flowable]:
    """Who prepared and who signed, with the report's SHA-256 and chain hash."""
    return [
        section(
            "Sign-off",
            details(
                [
                    (
                        "Prepared by",
                        f"{_person(rec.prepared_by)} on {pdf_date(rec.prepared_at.date())}",
                    ),
                    (
                        "Reviewed and signed by",
                        f"{_person(rec.signed_by)} on {pdf_date(rec.signed_at.date())}"
                        if rec.signed_at
                        else "not signed",
                    ),
                    ("Report SHA-256", rec.report_sha256),
                    ("Chain hash", rec.chain_hash or "-"),
                ],
                label_width=150,
            ),
        )
    ]


def reconciliation_pdf(rec: Reconciliation, report: Report) -> bytes:
    """Render the archived reconciliation report of ``rec`` from its computed ``report``."""
    account = rec.bank_account
    cur = account.currency
    title = "THREE-WAY RECONCILIATION" if report.is_trust else "BANK RECONCILIATION"
    story: list[Flowable] = [
        *_header(rec, title),
        *_summary(rec, report),
        *_items(
            "Deposits in transit",
            report.deposits,
            "Deposits in transit",
            report.deposits_in_transit_cents,
            cur,
        ),
        *_items(
            "Outstanding disbursements",
            report.outstanding,
            "Outstanding disbursements",
            report.outstanding_cents,
            cur,
        ),
        *_unrecorded(report, cur),
        *_client_ledgers(report, cur),
        *_sign_off(rec),
    ]
    return render(
        firm=Firm.current(),
        title=title.title(),
        subject=f"{account.name} {rec.period_end.isoformat()}",
        story=story,
        footer=f"Report SHA-256 {rec.report_sha256}",
    )
