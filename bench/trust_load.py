"""Synthetic client trust for a generated firm (opt-in: ``generate_trust``, or
``python -m bench.generate --trust SHARE``): a retainer deposited into trust for a share of the
matters, some paid out for the client (a third-party cost, as an approved and posted
disbursement) and, where the matter has unpaid issued invoices (``generate_receivables`` ran
first), earned fees moved to operating against them (trust transfers). Bulk-loaded like the
receivables (``bench.receivables``: COPY on PostgreSQL, the per-row guards lifted for the load)
with what the trust services write beside each movement:

- the journal entries and postings ``deposit_record``, ``disbursement_post`` and
  ``trust_apply_to_invoice`` post (TRUST_DEPOSIT: Dr trust bank, Cr client trust liability;
  TRUST_DISBURSEMENT: the reverse, naming its disbursement; TRUST_TRANSFER_EARNED: Dr client
  trust liability, Cr trust bank, Dr operating bank, Cr A/R, all carrying the invoice), the
  balance rows and each entry's keyed audit event (``derive_ledger_rows``);
- the trust rows: the matter's trust row, the deposits (receipt numbers and clearing dates as
  the service computes them), the disbursements with their approvals, the transfers, and the
  receipt and disbursement counters moved past the numbers used;
- what A/R keeps for a transfer: its aging fact, the open A/R, the invoice's settlement
  (``paid_cents``) and the KPI summary rows, recomputed set-based;
- one audit event per service action (deposit recorded, disbursement requested, approved and
  posted, trust applied to an invoice), appended with ``audit.record_many``;
- after the load, ``low_balance_check`` (the service) on every matter money left, as it runs
  after each disbursement and transfer: a task when its trust ended below the minimum.

Every movement leaves trust after the deposit that funds it has cleared, and a matter's outflows
never exceed its first deposit, so no client trust ledger is negative at any moment. Receipt
notices are not queued: the generated history is past, not mail to send.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bench.receivables import (
    AS_OF,
    NOW,
    _next_id,
    _reset_sequences,
    bulk_load_guards_lifted,
    copy_rows,
    derive_ledger_rows,
)

PAYEES = [
    "Lingua Certified Translations",
    "Global Credential Evaluators",
    "Civil surgeon (Form I-693 exam)",
    "FedEx courier",
]


@dataclass
class Trust:
    """What ``generate_trust`` loaded (counts) and the matters that hold trust."""

    matter_ids: list[int]
    deposits: int
    disbursements: int
    transfers: int
    deposited_cents: int
    out_cents: int


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def generate_trust(
    firm: Any,
    *,
    share: float = 0.3,
    seed: int = 11,
    as_of: date = AS_OF,
    now: datetime = NOW,
) -> Trust:
    """Load trust for about ``share`` of ``firm``'s matters (a ``bench.generate.Firm``), dated
    on or before ``as_of``. Deterministic for the same firm, invoices and seed. Raises
    RuntimeError when a generated entry does not balance (nothing is then kept)."""
    from django.db import connection, transaction

    from caseledger.billing.models import Invoice
    from caseledger.clients.models import Client
    from caseledger.collections.models import ARAgingFact
    from caseledger.collections.services.aging_facts import aging_open_rebuild
    from caseledger.core import audit
    from caseledger.core.selectors import firm_get
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import Account, JournalEntry, Posting
    from caseledger.matters.models import Matter
    from caseledger.payments.models import InvoiceSettlement
    from caseledger.reports.summary import rebuild as kpi_summary_rebuild
    from caseledger.trust import selectors as trust_selectors
    from caseledger.trust.choices import (
        DepositMethod,
        DisbursementMethod,
        DisbursementPurpose,
        DisbursementStatus,
    )
    from caseledger.trust.models import (
        Disbursement,
        DisbursementApproval,
        MatterTrust,
        TrustCounter,
        TrustDeposit,
        TrustTransfer,
    )
    from caseledger.trust.services import low_balance_check

    rng = random.Random(seed)
    account = {
        code: Account.objects.get(code=code).pk
        for code in (
            A.TRUST_BANK,
            A.CLIENT_TRUST_LIABILITY,
            A.OPERATING_BANK,
            A.ACCOUNTS_RECEIVABLE,
        )
    }
    bank, liability = account[A.TRUST_BANK], account[A.CLIENT_TRUST_LIABILITY]
    settings_row = trust_selectors.trust_settings_get()
    dual_above = int(firm_get().disbursement_dual_approval_cents)
    matters = list(
        Matter.objects.filter(pk__in=firm.matter_ids)
        .order_by("id")
        .values("id", "number", "client_id", "opened_date", "attorney_id", "paralegal_id",
                "responsible_partner_id")
    )  # fmt: skip
    chosen = [m for m in matters if rng.random() < share]
    names = dict(
        Client.objects.filter(pk__in={m["client_id"] for m in chosen}).values_list("id", "name")
    )
    unpaid: dict[int, list[dict[str, Any]]] = {}
    for row in (
        InvoiceSettlement.objects.filter(
            invoice__matter_id__in=[m["id"] for m in chosen],
            invoice__status="ISSUED",
            balance_due_cents__gt=0,
        )
        .order_by("invoice__issue_date", "invoice_id")
        .values("id", "invoice_id", "invoice__number", "invoice__matter_id", "invoice__issue_date",
                "invoice__due_date", "balance_due_cents")
    ):  # fmt: skip
        unpaid.setdefault(row["invoice__matter_id"], []).append(dict(row))

    def counter(name: str) -> int:
        return int(
            TrustCounter.objects.filter(name=name).values_list("value", flat=True).first() or 0
        )

    receipt_no, disbursement_no = counter("trust_receipt"), counter("disbursement")
    entry_id = _next_id(JournalEntry)
    posting_id = _next_id(Posting)
    deposit_id = _next_id(TrustDeposit)
    disbursement_id = _next_id(Disbursement)
    transfer_id = _next_id(TrustTransfer)
    entries: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    trust_rows: list[dict[str, Any]] = []
    deposits: list[dict[str, Any]] = []
    disbursements: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    transfers: list[dict[str, Any]] = []
    paid: dict[int, int] = {}  # settlement id -> cents moved from trust
    pending: list[audit.Pending] = []
    deposited = out = 0
    spent: set[int] = set()  # matters with money out of trust

    def post(day: date, kind: str, memo: str, lines: list[tuple[int, int, dict[str, Any]]],
             **extra: Any) -> int:  # fmt: skip
        nonlocal entry_id, posting_id
        entries.append(
            {"id": entry_id, "entry_date": day, "kind": kind, "memo": memo[:500],
             "currency": "USD", "created_at": now, "payload_hash": f"{entry_id:064d}", **extra}
        )  # fmt: skip
        for account_id, cents, refs in lines:
            postings.append(
                {"id": posting_id, "entry_id": entry_id, "account_id": account_id,
                 "amount_cents": cents, "entry_date": day, **refs}
            )  # fmt: skip
            posting_id += 1
        entry_id += 1
        return entry_id - 1

    for m in chosen:
        refs = {"client_id": m["client_id"], "matter_id": m["id"]}
        trust_rows.append({"matter_id": m["id"], "client_id": m["client_id"], "updated_at": now})
        # The retainer: received within a month of opening, by check, ACH or wire.
        cents = rng.randrange(150_000, 1_000_000)
        received = min(m["opened_date"] + timedelta(days=rng.randrange(0, 30)), as_of)
        method = rng.choice([DepositMethod.CHECK, DepositMethod.ACH, DepositMethod.WIRE])
        reference = {
            DepositMethod.CHECK: f"{rng.randrange(1000, 9999)}",
            DepositMethod.WIRE: f"FW{rng.randrange(10**9, 10**10)}",
        }.get(method, "")
        clears = trust_selectors.clearing_date(
            method=method, received_date=received, settings_row=settings_row, card_settled=False
        )
        assert clears is not None  # no card deposits here
        receipt_no += 1
        receipt = f"R-{receipt_no:06d}"
        payer = names[m["client_id"]]
        entry = post(
            received,
            "TRUST_DEPOSIT",
            f"Trust receipt {receipt} from {payer} ({DepositMethod(method).label})",
            [(bank, cents, refs), (liability, -cents, refs)],
        )
        deposits.append(
            {"id": deposit_id, "receipt_number": receipt, "client_id": m["client_id"],
             "matter_id": m["id"], "method": method, "payer": payer, "reference": reference,
             "received_date": received, "clears_on": clears, "amount_cents": cents,
             "trust_account_id": bank, "entry_id": entry, "created_by_id": m["paralegal_id"],
             "created_at": now}
        )  # fmt: skip
        pending.append(
            audit.Pending(
                action="trust.deposit_recorded",
                obj=TrustDeposit(id=deposit_id, receipt_number=receipt),
                after={
                    "amount_cents": cents,
                    "fee_cents": 0,
                    "method": method,
                    "matter": m["number"],
                    "clears_on": clears.isoformat(),
                    "entry": entry,
                    "trust_account": A.TRUST_BANK,
                    "trust_request": None,
                },
            )  # fmt: skip
        )
        deposit_id += 1
        deposited += cents
        left = cents
        day = clears
        # A cost paid for the client out of trust, after the funds cleared.
        if rng.random() < 0.4:
            amount = rng.randrange(5_000, min(cents // 4, 150_000))
            requested = min(clears + timedelta(days=rng.randrange(1, 60)), as_of)
            posted = min(requested + timedelta(days=rng.randrange(0, 3)), as_of)
            disbursement_no += 1
            number = f"D-{disbursement_no:06d}"
            payee = rng.choice(PAYEES)
            required = 2 if amount > dual_above else 1
            approvers = [m["responsible_partner_id"], m["attorney_id"]][:required]
            entry = post(
                posted,
                "TRUST_DISBURSEMENT",
                f"Disbursement {number} to {payee} ({DisbursementPurpose.THIRD_PARTY_COST.label})",
                [(liability, amount, refs), (bank, -amount, refs)],
                disbursement_id=disbursement_id,
            )
            disbursements.append(
                {"id": disbursement_id, "number": number, "client_id": m["client_id"],
                 "matter_id": m["id"], "trust_account_id": bank, "payee": payee,
                 "amount_cents": amount, "purpose": DisbursementPurpose.THIRD_PARTY_COST,
                 "method": rng.choice([DisbursementMethod.CHECK, DisbursementMethod.ACH]),
                 "memo": "Cost advanced from the client's retainer",
                 "status": DisbursementStatus.POSTED, "required_approvals": required,
                 "requested_by_id": m["paralegal_id"], "requested_at": _at(requested, 10),
                 "expires_on": requested + timedelta(days=settings_row.disbursement_expiry_days),
                 "decided_by_id": approvers[-1], "decided_at": _at(requested, 16),
                 "posted_date": posted, "entry_id": entry}
            )  # fmt: skip
            approvals.extend(
                {"disbursement_id": disbursement_id, "approver_id": who,
                 "approved_at": _at(requested, 15 + k)}
                for k, who in enumerate(approvers)
            )  # fmt: skip
            shown = Disbursement(id=disbursement_id, number=number)
            pending.append(
                audit.Pending(
                    action="trust.disbursement_requested",
                    obj=shown,
                    after={
                        "amount_cents": amount,
                        "payee": payee,
                        "purpose": DisbursementPurpose.THIRD_PARTY_COST,
                        "method": disbursements[-1]["method"],
                        "fee_code": "",
                        "required_approvals": required,
                        "trust_account": A.TRUST_BANK,
                    },
                )  # fmt: skip
            )
            pending.extend(
                audit.Pending(
                    action="trust.disbursement_approved",
                    obj=shown,
                    after={
                        "approvals": k,
                        "required": required,
                        "status": "APPROVED" if k == required else "REQUESTED",
                    },
                )  # fmt: skip
                for k in range(1, required + 1)
            )
            pending.append(
                audit.Pending(
                    action="trust.disbursement_posted",
                    obj=shown,
                    before={"status": DisbursementStatus.APPROVED},
                    after={
                        "status": DisbursementStatus.POSTED,
                        "entry": entry,
                        "amount_cents": amount,
                    },
                )  # fmt: skip
            )
            disbursement_id += 1
            left -= amount
            out += amount
            day = posted
            spent.add(m["id"])
        # Earned fees: trust applied to the matter's unpaid invoices, oldest first.
        for inv in unpaid.get(m["id"], []):
            amount = min(inv["balance_due_cents"], left)
            moved_on = max(inv["invoice__issue_date"], day)
            if amount <= 0 or moved_on > as_of:
                break
            irefs = {**refs, "invoice_id": inv["invoice_id"]}
            entry = post(
                moved_on,
                "TRUST_TRANSFER_EARNED",
                f"Earned fees: trust applied to invoice {inv['invoice__number']}",
                [(liability, amount, irefs), (bank, -amount, irefs),
                 (account[A.OPERATING_BANK], amount, irefs),
                 (account[A.ACCOUNTS_RECEIVABLE], -amount, irefs)],
            )  # fmt: skip
            facts.append(
                {"posting_id": posting_id - 1, "due_date": inv["invoice__due_date"],
                 "amount_cents": -amount, "entry_date": moved_on, **irefs}
            )  # fmt: skip
            transfers.append(
                {"id": transfer_id, "invoice_id": inv["invoice_id"], "trust_account_id": bank,
                 "client_id": m["client_id"], "matter_id": m["id"], "amount_cents": amount,
                 "transfer_date": moved_on, "entry_id": entry,
                 "created_by_id": m["attorney_id"], "created_at": now}
            )  # fmt: skip
            paid[inv["id"]] = paid.get(inv["id"], 0) + amount
            pending.append(
                audit.Pending(
                    action="trust.applied_to_invoice",
                    obj=TrustTransfer(
                        id=transfer_id,
                        invoice=Invoice(id=inv["invoice_id"], number=inv["invoice__number"]),
                    ),
                    after={
                        "invoice": inv["invoice__number"],
                        "amount_cents": amount,
                        "automatic": False,
                        "balance_due_cents": inv["balance_due_cents"] - amount,
                        "entry": entry,
                    },
                )  # fmt: skip
            )
            transfer_id += 1
            left -= amount
            out += amount
            spent.add(m["id"])

    with transaction.atomic(), bulk_load_guards_lifted():
        copy_rows(MatterTrust, trust_rows)
        copy_rows(JournalEntry, entries, with_id=True)
        copy_rows(Posting, postings, with_id=True)
        copy_rows(TrustDeposit, deposits, with_id=True)
        copy_rows(Disbursement, disbursements, with_id=True)
        copy_rows(DisbursementApproval, approvals)
        copy_rows(TrustTransfer, transfers, with_id=True)
        copy_rows(ARAgingFact, facts, with_id=True)
        settlements = list(InvoiceSettlement.objects.filter(pk__in=paid))
        for settlement in settlements:
            settlement.paid_cents += paid[settlement.pk]
            settlement.updated_at = now
        InvoiceSettlement.objects.bulk_update(
            settlements, ["paid_cents", "updated_at"], batch_size=2000
        )
        for name, value in (("trust_receipt", receipt_no), ("disbursement", disbursement_no)):
            TrustCounter.objects.update_or_create(name=name, defaults={"value": value})
        aging_open_rebuild()
        kpi_summary_rebuild()
        derive_ledger_rows(entries, postings)
        audit.record_many(actor=None, at=now, events=pending, actor_label="bench.generate")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM (SELECT entry_id FROM ledger_posting WHERE entry_id >= %s "
                "GROUP BY entry_id HAVING SUM(amount_cents) <> 0) AS unbalanced",
                [entries[0]["id"] if entries else entry_id],
            )
            if cur.fetchone()[0]:
                raise RuntimeError("generated trust entries do not balance")
    _reset_sequences([JournalEntry, Posting, TrustDeposit, Disbursement, TrustTransfer])
    # A disbursement or transfer runs the low-balance check after it posts: the matters whose
    # trust ended below the minimum get the service's task (and, if the firm chose it, its
    # replenishment request), through the service itself.
    for matter in Matter.objects.filter(pk__in=sorted(spent)).order_by("id"):
        with transaction.atomic():
            low_balance_check(matter=matter, now=now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return Trust(
        matter_ids=[m["id"] for m in chosen],
        deposits=len(deposits),
        disbursements=len(disbursements),
        transfers=len(transfers),
        deposited_cents=deposited,
        out_cents=out,
    )
