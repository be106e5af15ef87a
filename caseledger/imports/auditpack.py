"""The audit pack a bar auditor asks for: one trust bank account over a period, as a zip of CSV
files and PDFs with a SHA-256 manifest.

    trust-journal.csv        every posting to the account in the period, with the running balance
                             from the opening balance the day before
    client-ledgers.csv       the same postings per client and matter, each ledger with its
                             opening balance, running balance and closing balance
    client-balances.csv      opening, in, out and closing per client and matter
    reconciliations.csv      the monthly reconciliations of the account ending in the period:
                             figures, balanced or not, prepared and signed by whom and when, the
                             report hash and its chain hash
    reconciliations/<month>-<id>.pdf   the archived PDF of each signed reconciliation
    disbursements.csv        disbursement requests from the account in the period with status,
                             requester, decision, posted date
    disbursement-approvals.csv   one row per approval (approver and time)
    deposits.csv             trust deposits into the account in the period
    receipts/<number>.pdf    the receipt of each deposit
    manifest.json            SHA-256 and size per file, the account and the period
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.db.models import Q, Sum

from caseledger.core.exceptions import ApplicationError
from caseledger.imports.export import zip_info

PACK_PERIOD = "end: the period ends {end}, before it starts {start}"
PACK_NOT_TRUST = "account: {account} is not a trust bank account"


class AuditPackRefused(ApplicationError):
    """The pack cannot be built for these arguments."""


class _Pack:
    """The zip being written to a binary file: each member streamed in as it is made (CSV row
    by row, one PDF at a time), hashed on the way for the manifest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.zf = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self.files: dict[str, dict[str, Any]] = {}

    def blob(self, name: str, data: bytes) -> None:
        self.zf.writestr(zip_info(name), data)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def csv(self, name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
        sha, size = hashlib.sha256(), 0
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        with self.zf.open(zip_info(name), "w", force_zip64=True) as fh:

            def flush() -> None:
                nonlocal size
                data = buffer.getvalue().encode()
                fh.write(data)
                sha.update(data)
                size += len(data)
                buffer.seek(0)
                buffer.truncate()

            writer.writerow(header)
            for i, row in enumerate(rows, start=1):
                writer.writerow(["" if v is None else v for v in row])
                if i % 500 == 0:
                    flush()
            flush()
        self.files[name] = {"sha256": sha.hexdigest(), "bytes": size}

    def close(self, manifest: dict[str, Any]) -> None:
        manifest["files"] = dict(sorted(self.files.items()))
        self.zf.writestr(zip_info("manifest.json"), json.dumps(manifest, indent=1, sort_keys=True))
        self.zf.close()


def _cents(value: int | None) -> str:
    return f"{(value or 0) / 100:.2f}"


def _who(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _same(key: tuple[int | None, int | None]) -> Q:
    """The postings of one client ledger: client and matter (either may be none)."""
    client, matter = key
    return (Q(client_id=client) if client else Q(client_id__isnull=True)) & (
        Q(matter_id=matter) if matter else Q(matter_id__isnull=True)
    )


def _in_account(account: Any) -> Q:
    """Trust rows in ``account`` (rows without one are in the primary trust account)."""
    from caseledger.ledger import accounts

    if account.code == accounts.TRUST_BANK:
        return Q(trust_account=account) | Q(trust_account__isnull=True)
    return Q(trust_account=account)


def _journal_rows(in_period: Any, opening: int, start: date) -> Iterator[list[Any]]:
    """Yield the trust journal: the opening balance, then each posting with its running balance."""
    running = opening
    yield [start - timedelta(days=1), "", "", "Opening balance", "", "", "", _cents(opening)]
    postings = (
        in_period.select_related("entry", "client", "matter")
        .order_by("entry_date", "id")
        .iterator(chunk_size=2000)
    )
    for p in postings:
        running += p.amount_cents
        yield [
            p.entry_date,
            p.entry_id,
            p.entry.kind,
            p.entry.memo,
            p.client.name if p.client else "",
            p.matter.number if p.matter else "",
            _cents(p.amount_cents),
            _cents(running),
        ]


def _write_journal(pack: _Pack, *, account: Any, start: date, end: date) -> tuple[Any, Any]:
    """Write trust-journal.csv; return the postings before and in the period for the ledgers."""
    from caseledger.ledger.models import Posting

    before = Posting.objects.filter(account=account, entry_date__lt=start)
    opening = int(before.aggregate(t=Sum("amount_cents"))["t"] or 0)
    in_period = Posting.objects.filter(account=account, entry_date__gte=start, entry_date__lte=end)
    pack.csv(
        "trust-journal.csv",
        ["date", "entry", "kind", "memo", "client", "matter", "amount", "balance"],
        _journal_rows(in_period, opening, start),
    )
    return before, in_period


def _ledger_rows(
    *,
    ordered: list[tuple[int | None, int | None]],
    names: Any,
    openings: dict[tuple[int | None, int | None], int],
    in_period: Any,
    start: date,
    end: date,
    balance_rows: list[list[Any]],
) -> Iterator[list[Any]]:
    """Yield each client ledger's opening, postings and closing; append its balance row."""
    for key in ordered:
        client_name, matter_number = names(key)
        bal = openings.get(key, 0)
        yield [
            client_name,
            matter_number,
            start - timedelta(days=1),
            "",
            "Opening",
            "",
            _cents(bal),
        ]
        inflow = outflow = 0
        postings = (
            in_period.filter(_same(key))
            .select_related("entry")
            .order_by("entry_date", "id")
            .iterator(chunk_size=2000)
        )
        for p in postings:
            bal += p.amount_cents
            if p.amount_cents > 0:
                inflow += p.amount_cents
            else:
                outflow -= p.amount_cents
            yield [
                client_name,
                matter_number,
                p.entry_date,
                p.entry_id,
                p.entry.memo,
                _cents(p.amount_cents),
                _cents(bal),
            ]
        yield [client_name, matter_number, end, "", "Closing", "", _cents(bal)]
        balance_rows.append(
            [
                client_name,
                matter_number,
                _cents(openings.get(key, 0)),
                _cents(inflow),
                _cents(outflow),
                _cents(bal),
            ]
        )


def _write_client_ledgers(
    pack: _Pack, *, before: Any, in_period: Any, start: date, end: date
) -> None:
    """Write client-ledgers.csv and client-balances.csv, per client and matter."""
    from caseledger.clients.models import Client
    from caseledger.matters.models import Matter

    # Client ledgers: per client and matter, opening from the postings before the period.
    openings: dict[tuple[int | None, int | None], int] = {
        (r["client_id"], r["matter_id"]): int(r["t"])
        for r in before.values("client_id", "matter_id").annotate(t=Sum("amount_cents"))
    }
    keys = set(openings) | {
        (r["client_id"], r["matter_id"]) for r in in_period.values("client_id", "matter_id")
    }
    clients = Client.objects.only("name").in_bulk([k[0] for k in keys if k[0]])
    matters = Matter.objects.only("number").in_bulk([k[1] for k in keys if k[1]])

    def names(key: tuple[Any, Any]) -> tuple[str, str]:
        c, m = clients.get(key[0]), matters.get(key[1])
        return (c.name if c else "(none)", m.number if m else "")

    ordered = sorted(keys, key=lambda k: names(k))
    balance_rows: list[list[Any]] = []  # one per ledger (client and matter)
    pack.csv(
        "client-ledgers.csv",
        ["client", "matter", "date", "entry", "memo", "amount", "balance"],
        _ledger_rows(
            ordered=ordered,
            names=names,
            openings=openings,
            in_period=in_period,
            start=start,
            end=end,
            balance_rows=balance_rows,
        ),
    )
    pack.csv(
        "client-balances.csv", ["client", "matter", "opening", "in", "out", "closing"], balance_rows
    )


def _write_reconciliations(pack: _Pack, *, account: Any, start: date, end: date) -> None:
    """Write reconciliations.csv and the archived PDF of each reconciliation that has one."""
    from caseledger.banking.models import Reconciliation

    recs = list(
        Reconciliation.objects.filter(
            bank_account__ledger_account=account, period_end__gte=start, period_end__lte=end
        )
        .select_related("prepared_by", "signed_by", "reopened_by")
        .defer("pdf", "report")
        .order_by("period_end", "id")
    )
    with_pdf = set(
        Reconciliation.objects.filter(pk__in=[r.pk for r in recs])
        .exclude(pdf=b"")
        .values_list("pk", flat=True)
    )
    pack.csv(
        "reconciliations.csv",
        [
            "id",
            "period_start",
            "period_end",
            "status",
            "statement_balance",
            "adjusted_bank",
            "journal",
            "client_ledgers",
            "balanced",
            "prepared_by",
            "prepared_at",
            "signed_by",
            "signed_at",
            "reopened_by",
            "reopened_at",
            "report_sha256",
            "chain_hash",
            "pdf",
        ],
        (
            [
                r.pk,
                r.period_start,
                r.period_end,
                r.status,
                _cents(r.statement_balance_cents),
                _cents(r.adjusted_bank_cents),
                _cents(r.journal_cents),
                _cents(r.client_total_cents),
                "yes" if r.is_balanced else "no",
                _who(r.prepared_by),
                r.prepared_at.isoformat(),
                _who(r.signed_by),
                r.signed_at.isoformat() if r.signed_at else "",
                _who(r.reopened_by),
                r.reopened_at.isoformat() if r.reopened_at else "",
                r.report_sha256,
                r.chain_hash,
                f"reconciliations/{r.period_end:%Y-%m}-{r.pk}.pdf" if r.pk in with_pdf else "",
            ]
            for r in recs
        ),
    )
    for r in recs:
        if r.pk in with_pdf:  # one archived PDF in memory at a time
            pdf = Reconciliation.objects.values_list("pdf", flat=True).get(pk=r.pk)
            pack.blob(f"reconciliations/{r.period_end:%Y-%m}-{r.pk}.pdf", bytes(pdf))


def _write_disbursements(pack: _Pack, *, account: Any, start: date, end: date) -> None:
    """Write disbursements.csv and disbursement-approvals.csv for the account in the period."""
    from caseledger.trust.models import DisbursementApproval
    from caseledger.trust.selectors import disbursement_list

    requested = Q(requested_at__date__gte=start, requested_at__date__lte=end) | Q(
        posted_date__gte=start, posted_date__lte=end
    )
    disbursements = (
        disbursement_list()
        .filter(_in_account(account))
        .filter(requested)
        .select_related("client", "matter", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )
    pack.csv(
        "disbursements.csv",
        [
            "number",
            "client",
            "matter",
            "payee",
            "amount",
            "purpose",
            "method",
            "reference",
            "status",
            "required_approvals",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "posted_date",
            "entry",
        ],
        (
            [
                d.number,
                d.client.name,
                d.matter.number,
                d.payee,
                _cents(d.amount_cents),
                d.purpose,
                d.method,
                d.reference,
                d.status,
                d.required_approvals,
                _who(d.requested_by),
                d.requested_at.isoformat(),
                _who(d.decided_by),
                d.decided_at.isoformat() if d.decided_at else "",
                d.decision_note,
                d.posted_date or "",
                d.entry_id or "",
            ]
            for d in disbursements.iterator(chunk_size=2000)
        ),
    )
    approvals = (
        DisbursementApproval.objects.filter(disbursement__in=disbursements.values("pk"))
        .select_related("disbursement", "approver")
        .order_by("disbursement__requested_at", "approved_at", "id")
    )
    pack.csv(
        "disbursement-approvals.csv",
        ["disbursement", "approver", "approved_at"],
        (
            [a.disbursement.number, _who(a.approver), a.approved_at.isoformat()]
            for a in approvals.iterator(chunk_size=2000)
        ),
    )


def _write_deposits(pack: _Pack, *, account: Any, start: date, end: date) -> None:
    """Write deposits.csv and the receipt PDF of each deposit into the account in the period."""
    from caseledger.trust.models import TrustDeposit
    from caseledger.trust.pdf import receipt_pdf

    deposits = (
        TrustDeposit.objects.filter(_in_account(account))
        .filter(received_date__gte=start, received_date__lte=end)
        .select_related("client", "matter", "created_by")
        .order_by("received_date", "id")
    )
    pack.csv(
        "deposits.csv",
        [
            "receipt",
            "client",
            "matter",
            "method",
            "payer",
            "reference",
            "received_date",
            "clears_on",
            "amount",
            "fee",
            "entry",
            "recorded_by",
            "receipt_pdf",
        ],
        (
            [
                d.receipt_number,
                d.client.name,
                d.matter.number,
                d.method,
                d.payer,
                d.reference,
                d.received_date,
                d.clears_on or "",
                _cents(d.amount_cents),
                _cents(d.fee_cents),
                d.entry_id,
                _who(d.created_by),
                f"receipts/{d.receipt_number}.pdf",
            ]
            for d in deposits.iterator(chunk_size=2000)
        ),
    )
    for d in deposits.iterator(chunk_size=200):  # one receipt PDF in memory at a time
        pack.blob(f"receipts/{d.receipt_number}.pdf", receipt_pdf(d))


def audit_pack(*, account: Any, start: date, end: date, now: datetime, out: IO[bytes]) -> None:
    """Write the pack's zip for trust bank ``account`` (a ledger Account) from ``start`` to
    ``end`` inclusive into the binary file ``out`` (a file, a temporary file the view serves).
    Streamed: postings, deposits and disbursements are read in chunks and each member goes into
    the zip as it is made, so memory stays flat however long the period. Refused
    (AuditPackRefused) before anything is written."""
    if end < start:
        raise AuditPackRefused(PACK_PERIOD.format(end=end, start=start), field="end")
    if not getattr(account, "is_trust_bank", False):
        raise AuditPackRefused(PACK_NOT_TRUST.format(account=account), field="account")
    pack = _Pack(out)
    before, in_period = _write_journal(pack, account=account, start=start, end=end)
    _write_client_ledgers(pack, before=before, in_period=in_period, start=start, end=end)
    _write_reconciliations(pack, account=account, start=start, end=end)
    _write_disbursements(pack, account=account, start=start, end=end)
    _write_deposits(pack, account=account, start=start, end=end)
    pack.close(
        {
            "format": "caseledger-audit-pack/1",
            "account": f"{account.code} {account.name}",
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "created_at": now.isoformat(),
        }
    )


def audit_pack_recorded(*, actor: Any, account: Any, start: date, end: date, now: datetime) -> None:
    from django.db import transaction

    from caseledger.core import audit

    with transaction.atomic():
        audit.record(
            actor=actor,
            action="imports.audit_pack_built",
            at=now,
            obj=account,
            after={"start": start, "end": end},
        )
