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
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, Sum

from caseledger.core.exceptions import ApplicationError
from caseledger.imports.export import zip_info

PACK_PERIOD = "end: the period ends {end}, before it starts {start}"
PACK_NOT_TRUST = "account: {account} is not a trust bank account"


class AuditPackRefused(ApplicationError):
    """The pack cannot be built for these arguments."""


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode()


def _cents(value: int | None) -> str:
    return f"{(value or 0) / 100:.2f}"


def _who(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _in_account(account: Any) -> Q:
    """Trust rows in ``account`` (rows without one are in the primary trust account)."""
    from caseledger.ledger import accounts

    if account.code == accounts.TRUST_BANK:
        return Q(trust_account=account) | Q(trust_account__isnull=True)
    return Q(trust_account=account)


def audit_pack(*, account: Any, start: date, end: date, now: datetime) -> bytes:
    """The pack's zip bytes for trust bank ``account`` (a ledger Account) from ``start`` to
    ``end`` inclusive. A period's records fit in memory (one account, typically a year)."""
    from caseledger.banking.models import Reconciliation
    from caseledger.ledger.models import Posting
    from caseledger.trust.models import DisbursementApproval, TrustDeposit
    from caseledger.trust.pdf import receipt_pdf
    from caseledger.trust.selectors import disbursement_list

    if end < start:
        raise AuditPackRefused(PACK_PERIOD.format(end=end, start=start), field="end")
    if not getattr(account, "is_trust_bank", False):
        raise AuditPackRefused(PACK_NOT_TRUST.format(account=account), field="account")
    files: dict[str, bytes] = {}

    before = Posting.objects.filter(account=account, entry_date__lt=start)
    opening = int(before.aggregate(t=Sum("amount_cents"))["t"] or 0)
    postings = list(
        Posting.objects.filter(account=account, entry_date__gte=start, entry_date__lte=end)
        .select_related("entry", "client", "matter")
        .order_by("entry_date", "id")
    )
    running = opening
    journal: list[list[Any]] = [[start - timedelta(days=1), "", "", "Opening balance", "", "", ""]]
    journal[0].append(_cents(opening))
    for p in postings:
        running += p.amount_cents
        journal.append(
            [
                p.entry_date,
                p.entry_id,
                p.entry.kind,
                p.entry.memo,
                p.client.name if p.client else "",
                p.matter.number if p.matter else "",
                _cents(p.amount_cents),
                _cents(running),
            ]
        )
    files["trust-journal.csv"] = _csv(
        ["date", "entry", "kind", "memo", "client", "matter", "amount", "balance"], journal
    )

    # Client ledgers: per client and matter, opening from the postings before the period.
    openings: dict[tuple[int | None, int | None], int] = {
        (r["client_id"], r["matter_id"]): int(r["t"])
        for r in before.values("client_id", "matter_id").annotate(t=Sum("amount_cents"))
    }
    keys = set(openings) | {(p.client_id, p.matter_id) for p in postings}
    from caseledger.clients.models import Client
    from caseledger.matters.models import Matter

    clients = Client.objects.in_bulk([k[0] for k in keys if k[0]])
    matters = Matter.objects.in_bulk([k[1] for k in keys if k[1]])

    def names(key: tuple[Any, Any]) -> tuple[str, str]:
        c, m = clients.get(key[0]), matters.get(key[1])
        return (c.name if c else "(none)", m.number if m else "")

    ordered = sorted(keys, key=lambda k: names(k))
    ledger_rows: list[list[Any]] = []
    balance_rows: list[list[Any]] = []
    for key in ordered:
        client_name, matter_number = names(key)
        bal = openings.get(key, 0)
        ledger_rows.append(
            [client_name, matter_number, start - timedelta(days=1), "", "Opening", "", _cents(bal)]
        )
        inflow = outflow = 0
        for p in postings:
            if (p.client_id, p.matter_id) != key:
                continue
            bal += p.amount_cents
            if p.amount_cents > 0:
                inflow += p.amount_cents
            else:
                outflow -= p.amount_cents
            ledger_rows.append(
                [
                    client_name,
                    matter_number,
                    p.entry_date,
                    p.entry_id,
                    p.entry.memo,
                    _cents(p.amount_cents),
                    _cents(bal),
                ]
            )
        ledger_rows.append([client_name, matter_number, end, "", "Closing", "", _cents(bal)])
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
    files["client-ledgers.csv"] = _csv(
        ["client", "matter", "date", "entry", "memo", "amount", "balance"], ledger_rows
    )
    files["client-balances.csv"] = _csv(
        ["client", "matter", "opening", "in", "out", "closing"], balance_rows
    )

    recs = list(
        Reconciliation.objects.filter(
            bank_account__ledger_account=account, period_end__gte=start, period_end__lte=end
        )
        .select_related("prepared_by", "signed_by", "reopened_by")
        .order_by("period_end", "id")
    )
    files["reconciliations.csv"] = _csv(
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
                f"reconciliations/{r.period_end:%Y-%m}-{r.pk}.pdf" if r.pdf else "",
            ]
            for r in recs
        ),
    )
    for r in recs:
        if r.pdf:
            files[f"reconciliations/{r.period_end:%Y-%m}-{r.pk}.pdf"] = bytes(r.pdf)

    in_period = Q(requested_at__date__gte=start, requested_at__date__lte=end) | Q(
        posted_date__gte=start, posted_date__lte=end
    )
    disbursements = list(
        disbursement_list()
        .filter(_in_account(account))
        .filter(in_period)
        .select_related("client", "matter", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )
    files["disbursements.csv"] = _csv(
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
            for d in disbursements
        ),
    )
    approvals = (
        DisbursementApproval.objects.filter(disbursement__in=[d.pk for d in disbursements])
        .select_related("disbursement", "approver")
        .order_by("disbursement__requested_at", "approved_at", "id")
    )
    files["disbursement-approvals.csv"] = _csv(
        ["disbursement", "approver", "approved_at"],
        ([a.disbursement.number, _who(a.approver), a.approved_at.isoformat()] for a in approvals),
    )

    deposits = list(
        TrustDeposit.objects.filter(_in_account(account))
        .filter(received_date__gte=start, received_date__lte=end)
        .select_related("client", "matter", "created_by")
        .order_by("received_date", "id")
    )
    files["deposits.csv"] = _csv(
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
            for d in deposits
        ),
    )
    for d in deposits:
        files[f"receipts/{d.receipt_number}.pdf"] = receipt_pdf(d)

    manifest = {
        "format": "caseledger-audit-pack/1",
        "account": f"{account.code} {account.name}",
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "created_at": now.isoformat(),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(zip_info(name), data)
        zf.writestr(zip_info("manifest.json"), json.dumps(manifest, indent=1, sort_keys=True))
    return out.getvalue()


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
