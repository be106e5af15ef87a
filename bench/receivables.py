"""Synthetic receivables for the collections benches: issued invoices with their ledger postings
(one INVOICE_ISSUED entry per invoice: Dr A/R, Cr fee revenue; some partly paid by a
PAYMENT_RECEIVED entry: Dr operating bank, Cr A/R), the aging fact of every A/R posting
(collections' ``ARAgingFact``, as the ledger's posting listener writes it), the open A/R per
invoice (``ARAgingOpen``, recomputed set-based from the facts after the load) and its buckets
per client and matter as of the as-of date (``ARAgingBuckets``), and the KPI summary rows
(reports' ``KpiDay``/``KpiIssueDay``, recomputed set-based after the load), written with COPY
on PostgreSQL and bulk_create on SQLite. Every generated entry balances; on PostgreSQL
the per-row triggers (append-only guards, the deferred balance check) are switched off for the
load only (``session_replication_role = replica``, throwaway bench database) and the balance of
every entry is checked afterwards with one query."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
AS_OF = date(2026, 11, 2)


@dataclass
class Receivables:
    invoice_ids: list[int]
    n_payments: int


def _concrete_columns(model: Any) -> list[Any]:
    from django.db import models

    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and not isinstance(f, models.GeneratedField)
    ]


def copy_rows(model: Any, rows: Sequence[dict[str, Any]], *, with_id: bool = False) -> None:
    """Insert ``rows`` (field attname -> value; missing fields take their default or NULL). With
    ``with_id`` the rows carry the primary key too (``id``, or e.g. ``posting_id``)."""
    from django.db import connection

    fields = _concrete_columns(model)
    # Field defaults: the declared one, "" for text columns, else NULL.
    defaults: dict[str, Any] = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    if with_id:
        names = [model._meta.pk.attname, *names]
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in names)
        with connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] if c in row else defaults[c] for c in names])
        return
    objs = []
    for row in rows:
        values = {c: (row[c] if c in row else defaults.get(c)) for c in names}
        objs.append(model(**values))
    model.objects.bulk_create(objs, batch_size=2000)


@contextmanager
def bulk_load_guards_lifted() -> Iterator[None]:
    """Inside the caller's transaction, for a bulk load into the throwaway bench database:
    PostgreSQL skips the per-row triggers (``session_replication_role = replica``) and
    recomputes the invoice tally those triggers keep once the load is in; SQLite drops the
    INSERT guards of invoice lines and postings (lines of issued invoices, postings after all
    their entries) and puts them back before the transaction ends."""
    from django.db import connection

    lifted: list[tuple[str, str]] = []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name "
                "IN ('billing_invoiceline', 'ledger_posting') AND sql LIKE '%%INSERT%%'"
            )
            lifted = cur.fetchall()
            for name, _sql in lifted:
                cur.execute(f"DROP TRIGGER {name}")
    yield
    with connection.cursor() as cur:
        for _name, sql in lifted:
            cur.execute(sql)
    if connection.vendor == "postgresql":
        # the invoice tally's triggers (payments 0008) were off with the others
        from caseledger.payments.tally import invoice_tally_rebuild

        invoice_tally_rebuild()


def _next_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def _reset_sequences(models: Iterable[Any]) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    sql = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cur:
        for statement in sql:
            cur.execute(statement)


def derive_ledger_rows(
    entry_rows: Sequence[dict[str, Any]], posting_rows: Sequence[dict[str, Any]]
) -> None:
    """What ``entry_post`` writes beside the entries and postings, for bulk-loaded ones: the
    balance rows (recomputed from all postings) and one keyed audit event per entry listing its
    lines, chained after the current head. ``manage.py verify`` then passes on the data."""
    from collections import defaultdict

    from django.db import connection

    from caseledger.core import audit
    from caseledger.core.models import AuditChainHead, AuditEvent
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import Account, AccountBalance, Posting, SubledgerBalance

    liability = Account.objects.get(code=A.CLIENT_TRUST_LIABILITY).pk
    acct: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for a, t, n in (
        Posting.objects.values("account_id")
        .annotate(t=models_sum("amount_cents"), n=models_count("id"))
        .values_list("account_id", "t", "n")
    ):
        acct[a] = [int(t), int(n)]
    for account_id in Account.objects.values_list("id", flat=True):
        t, n = acct[account_id]
        AccountBalance.objects.update_or_create(
            account_id=account_id, defaults={"balance_cents": t, "entry_count": n}
        )
    subs = {
        (a, c, m): int(t)
        for a, c, m, t in Posting.objects.filter(client__isnull=False, matter__isnull=False)
        .values("account_id", "client_id", "matter_id")
        .annotate(t=models_sum("amount_cents"))
        .values_list("account_id", "client_id", "matter_id", "t")
    }
    existing = {(r.account_id, r.client_id, r.matter_id): r for r in SubledgerBalance.objects.all()}
    new_rows, changed = [], []
    for sub_key, total in subs.items():
        row = existing.get(sub_key)
        if row is None:
            a, c, m = sub_key
            new_rows.append(
                SubledgerBalance(
                    account_id=a, client_id=c, matter_id=m, balance_cents=total,
                    is_trust_liability=a == liability,
                )
            )  # fmt: skip
        elif row.balance_cents != total:
            row.balance_cents = total
            changed.append(row)
    SubledgerBalance.objects.bulk_create(new_rows, batch_size=2000)
    SubledgerBalance.objects.bulk_update(changed, ["balance_cents"], batch_size=2000)

    codes = dict(Account.objects.values_list("id", "code"))
    lines: dict[int, list[list[Any]]] = defaultdict(list)
    for p in posting_rows:
        lines[p["entry_id"]].append(
            [codes[p["account_id"]], p["amount_cents"], p.get("client_id"), p.get("matter_id"),
             p.get("invoice_id")]
        )  # fmt: skip
    key_id, key = audit.signing_key()
    head = AuditChainHead.objects.filter(id=1).first()
    prev = head.last_hash if head is not None else audit.GENESIS_HASH
    events = []
    for entry in entry_rows:
        after = {
            "kind": entry["kind"],
            "entry_date": entry["entry_date"].isoformat(),
            "memo": entry["memo"],
            "reverses": None,
            "disbursement": entry.get("disbursement_id"),
            "lines": lines[entry["id"]],
        }
        fields = {
            "at": entry["created_at"],
            "actor_id": None,
            "actor_label": "bench.generate",
            "action": "ledger.entry_posted",
            "object_type": "ledger.journalentry",
            "object_id": str(entry["id"]),
            "object_repr": f"JE-{entry['id']}",
            "before": None,
            "after": after,
            "ip": None,
        }
        digest = audit.event_hash(
            key=key, key_id=key_id, prev_hash=prev,
            at=fields["at"], actor_id=None, actor_label=fields["actor_label"],
            action=fields["action"], object_type=fields["object_type"],
            object_id=fields["object_id"], object_repr=fields["object_repr"],
            before=None, after=after, ip=None,
        )  # fmt: skip
        events.append({**fields, "prev_hash": prev, "hash": digest, "key_id": key_id})
        prev = digest
    AuditEvent.objects.bulk_create([AuditEvent(**e) for e in events], batch_size=2000)
    if head is None:
        AuditChainHead.objects.create(id=1, last_hash=prev)
    else:
        with connection.cursor() as cur:
            cur.execute("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [prev])


def _load_payment_records(
    payment_rows: list[dict[str, Any]], allocation_rows: list[dict[str, Any]], last_number: int
) -> None:
    """The payments app's rows for loaded receipts (see ``generate_receivables``): payments,
    allocations, the payments counter and one ``payments.payment_recorded`` event each."""
    from caseledger.core import audit
    from caseledger.payments.models import DocumentCounter, Payment, PaymentAllocation

    copy_rows(Payment, payment_rows, with_id=True)
    copy_rows(PaymentAllocation, allocation_rows)
    DocumentCounter.objects.update_or_create(name="payment", defaults={"value": last_number})
    invoice_numbers = {a["payment_id"]: f"B{a['invoice_id']:08d}" for a in allocation_rows}
    audit.record_many(
        actor=None,
        at=NOW,
        actor_label="bench.generate",
        events=[
            audit.Pending(
                action="payments.payment_recorded",
                obj=Payment(id=p["id"], number=p["number"]),
                after={
                    "amount_cents": p["amount_cents"],
                    "fee_cents": 0,
                    "method": p["method"],
                    "allocations": {invoice_numbers[p["id"]]: p["amount_cents"]},
                    "unapplied_cents": 0,
                    "entry": p["entry_id"],
                },
            )  # fmt: skip
            for p in payment_rows
        ],
    )
    _reset_sequences([Payment])


def models_sum(field: str) -> Any:
    from django.db.models import Sum

    return Sum(field)


def models_count(field: str) -> Any:
    from django.db.models import Count

    return Count(field)


def generate_receivables(
    *,
    invoices: int,
    matter_ids: list[int],
    matter_client: dict[int, int],
    seed: int = 7,
    paid_share: float = 0.4,
    settlements: bool = False,
    as_of: date = AS_OF,
    postings_at_least: int = 0,
    payment_records: bool = False,
) -> Receivables:
    """Issued invoices due over the 180 days before ``as_of`` (and 30 after), each posted to A/R;
    ``paid_share`` of them partly or wholly paid. With ``settlements`` also the payments app's
    settlement rows (paid amounts matching the postings). ``postings_at_least``: when the
    invoices and payments make fewer postings, operating entries that never touch A/R fill the
    ledger up to that many (bank service charges: Dr 5400, Cr 1000 operating bank, dated over
    the same 210 days), as a firm's books hold more than its receivables.

    ``payment_records`` (opt-in; the default loads the entries only, as the benches always
    have): each payment also gets what ``payment_record`` writes beside its entry, a RECEIVED
    ``Payment`` (numbered from the payments counter, which is moved past it, by the client's
    name) allocated in full to its invoice (``PaymentAllocation``) and its audit event, and its
    entry is the service's: the memo names the payment and the operating bank line carries no
    client or matter."""
    from django.db import connection, transaction

    from caseledger.billing.models import Invoice
    from caseledger.collections.models import ARAgingFact, ARAgingOpen
    from caseledger.collections.services.aging_facts import (
        aging_buckets_rebuild,
        aging_open_rebuild,
    )
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import Account, JournalEntry, Posting
    from caseledger.reports.summary import rebuild as kpi_summary_rebuild

    rng = random.Random(seed)
    ar = Account.objects.get(code=A.ACCOUNTS_RECEIVABLE).pk
    revenue = Account.objects.get(code=A.FEE_REVENUE).pk
    bank = Account.objects.get(code=A.OPERATING_BANK).pk
    invoice_fields = {f.attname for f in _concrete_columns(Invoice)}
    inv_id0 = _next_id(Invoice)
    entry_id0 = _next_id(JournalEntry)
    posting_id = _next_id(Posting)
    invoice_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    posting_rows: list[dict[str, Any]] = []
    settlement_rows: list[dict[str, Any]] = []
    fact_rows: list[dict[str, Any]] = []
    entry_id = entry_id0
    n_payments = 0
    # Payment records come from a stream of their own: the invoices and amounts stay the draws
    # they were without them.
    pay_rng = random.Random(seed * 7919 + 2)
    payment_rows: list[dict[str, Any]] = []
    allocation_rows: list[dict[str, Any]] = []
    payment_no = payment_id = 0
    names: dict[int, str] = {}
    if payment_records:
        from caseledger.clients.models import Client
        from caseledger.payments.choices import PaymentMethod
        from caseledger.payments.models import DocumentCounter, Payment

        names = dict(Client.objects.values_list("id", "name"))
        payment_no = int(
            DocumentCounter.objects.filter(name="payment").values_list("value", flat=True).first()
            or 0
        )
        payment_id = _next_id(Payment)
    for i in range(invoices):
        inv_id = inv_id0 + i
        matter_id = matter_ids[i % len(matter_ids)]
        client_id = matter_client[matter_id]
        due = as_of + timedelta(days=rng.randrange(-180, 30))
        issued = due - timedelta(days=30)
        cents = rng.randrange(20_000, 900_000)
        row = {
            "client_id": client_id,
            "matter_id": matter_id,
            "status": "ISSUED",
            "number": f"B{inv_id:08d}",
            "currency": "USD",
            "issue_date": issued,
            "due_date": due,
            "total_cents": cents,
            "created_at": NOW,
        }
        if "subtotal_cents" in invoice_fields:
            row["subtotal_cents"] = cents
        invoice_rows.append({"id": inv_id, **row})
        entry_rows.append(
            {
                "id": entry_id,
                "entry_date": issued,
                "kind": "INVOICE_ISSUED",
                "memo": f"Invoice B{inv_id:08d}",
                "currency": "USD",
                "created_at": NOW,
                "payload_hash": f"{entry_id:064d}",
            }
        )
        common = {"entry_date": issued, "client_id": client_id, "matter_id": matter_id}
        posting_rows.append(
            {
                "id": posting_id,
                "entry_id": entry_id,
                "account_id": ar,
                "amount_cents": cents,
                "invoice_id": inv_id,
                **common,
            }
        )
        fact_rows.append(
            {
                "posting_id": posting_id,
                "due_date": due,
                "amount_cents": cents,
                "invoice_id": inv_id,
                **common,
            }
        )
        posting_rows.append(
            {
                "id": posting_id + 1,
                "entry_id": entry_id,
                "account_id": revenue,
                "amount_cents": -cents,
                "invoice_id": inv_id,
                **common,
            }
        )
        posting_id += 2
        entry_id += 1
        paid = 0
        if rng.random() < paid_share:
            paid = cents if rng.random() < 0.5 else cents // 2
            pay_day = min(due + timedelta(days=rng.randrange(-10, 40)), as_of)
            pay_day = max(pay_day, issued)
            memo = "Payment"
            pcommon = {"entry_date": pay_day, "client_id": client_id, "matter_id": matter_id}
            bank_refs: dict[str, Any] = pcommon
            if payment_records:
                payment_no += 1
                number = f"P-{payment_no:06d}"
                method = pay_rng.choice(["ACH", "CHECK", "WIRE"])
                label = PaymentMethod(method).label
                memo = f"Payment {number} from {names[client_id]} ({label})"[:500]
                bank_refs = {"entry_date": pay_day}
                payment_rows.append(
                    {"id": payment_id, "number": number, "client_id": client_id,
                     "matter_id": matter_id, "method": method, "status": "RECEIVED",
                     "payer": names[client_id][:200],
                     "reference": f"{pay_rng.randrange(1000, 9999)}" if method == "CHECK" else "",
                     "received_date": pay_day, "amount_cents": paid, "entry_id": entry_id,
                     "created_at": NOW}
                )  # fmt: skip
                allocation_rows.append(
                    {"payment_id": payment_id, "invoice_id": inv_id, "amount_cents": paid,
                     "applied_date": pay_day, "entry_id": entry_id, "created_at": NOW}
                )  # fmt: skip
                payment_id += 1
            entry_rows.append(
                {
                    "id": entry_id,
                    "entry_date": pay_day,
                    "kind": "PAYMENT_RECEIVED",
                    "memo": memo,
                    "currency": "USD",
                    "created_at": NOW,
                    "payload_hash": f"{entry_id:064d}",
                }
            )
            posting_rows.append(
                {
                    "id": posting_id,
                    "entry_id": entry_id,
                    "account_id": bank,
                    "amount_cents": paid,
                    **bank_refs,
                }
            )
            posting_rows.append(
                {
                    "id": posting_id + 1,
                    "entry_id": entry_id,
                    "account_id": ar,
                    "amount_cents": -paid,
                    "invoice_id": inv_id,
                    **pcommon,
                }
            )
            fact_rows.append(
                {
                    "posting_id": posting_id + 1,
                    "due_date": due,
                    "amount_cents": -paid,
                    "invoice_id": inv_id,
                    **pcommon,
                }
            )
            posting_id += 2
            entry_id += 1
            n_payments += 1
        settlement_rows.append(
            {"invoice_id": inv_id, "total_cents": cents, "paid_cents": paid, "updated_at": NOW}
        )
    charges = Account.objects.get(code=A.BANK_SERVICE_CHARGES).pk
    while len(posting_rows) < postings_at_least:
        day = as_of - timedelta(days=rng.randrange(0, 210))
        cents = rng.randrange(500, 5_000)
        entry_rows.append(
            {
                "id": entry_id,
                "entry_date": day,
                "kind": "ADJUSTMENT",
                "memo": "Bank service charge",
                "currency": "USD",
                "created_at": NOW,
                "payload_hash": f"{entry_id:064d}",
            }
        )
        for offset, (account, amount) in enumerate(((charges, cents), (bank, -cents))):
            posting_rows.append(
                {
                    "id": posting_id + offset,
                    "entry_id": entry_id,
                    "account_id": account,
                    "amount_cents": amount,
                    "entry_date": day,
                }
            )
        posting_id += 2
        entry_id += 1
    from caseledger.billing.models import InvoiceLine
    from caseledger.payments.models import InvoiceSettlement

    line_rows = [
        {
            "invoice_id": row["id"],
            "position": 1,
            "kind": "FEE",
            "category": "ATTORNEY_FEE",
            "description": "Legal services",
            "quantity": 1,
            "unit_price_cents": row["total_cents"],
            "amount_cents": row["total_cents"],
        }
        for row in invoice_rows
    ]
    with transaction.atomic(), bulk_load_guards_lifted():
        copy_rows(Invoice, invoice_rows, with_id=True)
        copy_rows(InvoiceLine, line_rows)
        copy_rows(JournalEntry, entry_rows, with_id=True)
        copy_rows(Posting, posting_rows, with_id=True)
        copy_rows(ARAgingFact, fact_rows, with_id=True)
        # The open A/R per receivable (the same listener's upserts), recomputed set-based from
        # all the facts with the statement ``aging_open_verify`` checks it against; then its
        # buckets per (client, matter) as of the as-of date, as the hourly roll leaves them on
        # that day (``aging_buckets_verify`` checks them).
        aging_open_rebuild()
        aging_buckets_rebuild(as_of)
        # The settlement rows always (``manage.py verify`` compares them with the ledger);
        # ``settlements`` is kept for callers that asked for them explicitly.
        copy_rows(InvoiceSettlement, settlement_rows)
        derive_ledger_rows(entry_rows, posting_rows)
        if payment_records:
            _load_payment_records(payment_rows, allocation_rows, payment_no)
        # The KPI summary (reports' listeners' rows), recomputed from all the postings with the
        # same set-based statements ``summary.verify`` checks it with: after the payments, whose
        # methods the cash summary files each receipt under.
        kpi_summary_rebuild()
    _reset_sequences([Invoice, JournalEntry, Posting])
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT entry_id FROM ledger_posting GROUP BY entry_id "
            "HAVING SUM(amount_cents) <> 0) AS unbalanced"
        )
        if cur.fetchone()[0]:
            raise RuntimeError("generated entries do not balance")
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
            if not connection.in_atomic_block:  # VACUUM cannot run in a transaction (a test's)
                # What autovacuum does to a table after a bulk insert: mark its pages
                # all-visible, so the aging report's index-only scan of the open rows (ADR 022)
                # need not read the table itself.
                cur.execute(f"VACUUM {ARAgingOpen._meta.db_table}")
    return Receivables(invoice_ids=list(range(inv_id0, inv_id0 + invoices)), n_payments=n_payments)
