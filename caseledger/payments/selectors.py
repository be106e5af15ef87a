"""Reads for payments: every invoice's payment state and money, balances due, open invoices,
unapplied credit, payment lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.hooks import InvoiceActivity
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import Posting
from caseledger.matters.models import Matter
from caseledger.payments import hooks
from caseledger.payments.choices import InvoicePaymentState, PaymentStatus
from caseledger.payments.models import (
    InvoiceSettlement,
    InvoiceTally,
    Payment,
    PaymentAllocation,
)

# --- payment state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceMoney:
    """Where one invoice stands with the money (cents, the invoice's currency).

    Always ``total = paid + credited + written_off + balance_due`` for an issued invoice:
    ``paid`` is what payments and trust applications brought in and the invoice kept (money a
    later credit note gave back to the client as credit is counted in ``credited``, not twice);
    ``credited`` is the issued credit notes' full amount; ``refunded`` is the part of the
    credited money already paid back out to the client (informational, inside ``credited``).
    Drafts and void invoices owe nothing (``balance_due`` 0). ``settled_on`` is the date of the
    last ledger movement that brought the balance to zero (None while something is due).
    """

    state: InvoicePaymentState
    total_cents: int
    paid_cents: int
    credited_cents: int
    written_off_cents: int
    refunded_cents: int
    balance_due_cents: int
    settled_on: date | None = None


def payment_state_for(
    *,
    status: str,
    total_cents: int,
    paid_cents: int,
    credited_cents: int,
    written_off_cents: int,
    balance_due_cents: int,
    due_date: date | None,
    as_of: date,
) -> InvoicePaymentState:
    """The one rule (``invoice_money_annotate`` is the same rule in SQL; the tests hold them
    equal): not issued -> draft / void; a balance due -> overdue when past its due date, partly
    paid when anything reduced it, else open; nothing due -> named after what settled the largest
    part (ties: paid, then credited, then written off; a zero invoice is paid)."""
    if status == InvoiceStatus.VOID:
        return InvoicePaymentState.VOID
    if status != InvoiceStatus.ISSUED:
        return InvoicePaymentState.DRAFT
    if balance_due_cents > 0:
        if due_date is not None and due_date < as_of:
            return InvoicePaymentState.OVERDUE
        if balance_due_cents < total_cents:
            return InvoicePaymentState.PARTLY_PAID
        return InvoicePaymentState.OPEN
    if paid_cents >= credited_cents and paid_cents >= written_off_cents:
        return InvoicePaymentState.PAID
    if credited_cents >= written_off_cents:
        return InvoicePaymentState.CREDITED
    return InvoicePaymentState.WRITTEN_OFF


def _credit_note_client_credit() -> Any:
    """Cents of the invoice's credit notes that went to client credit (the part already paid):
    the CREDIT_NOTE entries' credit to unapplied client credits naming the invoice."""
    rows = (
        Posting.objects.filter(
            invoice_id=OuterRef("pk"),
            account__code=accounts.UNAPPLIED_CLIENT_CREDITS,
            entry__kind=EntryKind.CREDIT_NOTE,
        )
        .order_by()
        .values("invoice_id")
        .annotate(s=Sum("amount_cents"))
        .values("s")
    )
    return -Coalesce(Subquery(rows, output_field=BigIntegerField()), Value(0))


def _last_movement() -> Any:
    """The date of the invoice's last A/R movement after its issue, or of a credit note's
    client-credit part (a credit after payment moves no A/R but still settles the invoice)."""
    rows = (
        Posting.objects.filter(
            invoice_id=OuterRef("pk"),
            account__code__in=[accounts.ACCOUNTS_RECEIVABLE, accounts.UNAPPLIED_CLIENT_CREDITS],
        )
        .exclude(entry__kind=EntryKind.INVOICE_ISSUED)
        .order_by()
        .values("invoice_id")
        .annotate(d=Max("entry_date"))
        .values("d")
    )
    return Subquery(rows)


def invoice_money_annotate(invoices: QuerySet[Invoice], *, as_of: date) -> Any:
    """``invoices`` with the money in SQL, for filtering, sorting and totals: ``payment_state``,
    ``paid_cents``, ``credited_cents``, ``written_off_cents``, ``balance_due_cents`` and
    ``settled_on`` (see ``InvoiceMoney``; refunds are not in SQL). Same rule as
    ``payment_state_for``."""
    issued = Q(status=InvoiceStatus.ISSUED)
    owing = Q(balance_due_cents__gt=0)
    return _money_annotate(invoices).annotate(
        payment_state=Case(
            When(status=InvoiceStatus.VOID, then=Value(InvoicePaymentState.VOID.value)),
            When(~issued, then=Value(InvoicePaymentState.DRAFT.value)),
            When(owing & Q(due_date__lt=as_of), then=Value(InvoicePaymentState.OVERDUE.value)),
            When(
                owing & Q(balance_due_cents__lt=F("total_cents")),
                then=Value(InvoicePaymentState.PARTLY_PAID.value),
            ),
            When(owing, then=Value(InvoicePaymentState.OPEN.value)),
            When(
                Q(paid_cents__gte=F("credited_cents")) & Q(paid_cents__gte=F("written_off_cents")),
                then=Value(InvoicePaymentState.PAID.value),
            ),
            When(
                credited_cents__gte=F("written_off_cents"),
                then=Value(InvoicePaymentState.CREDITED.value),
            ),
            default=Value(InvoicePaymentState.WRITTEN_OFF.value),
            output_field=CharField(),
        ),
    )


def _money_annotate(invoices: QuerySet[Invoice]) -> Any:
    """``invoices`` with the money columns of ``invoice_money_annotate`` but the state, which
    ``invoice_money`` derives in Python (``payment_state_for``): in SQL it repeats the credit
    notes' subquery in each of its branches, the larger part of the statement to compile."""
    issued = Q(status=InvoiceStatus.ISSUED)
    zero = Value(0, output_field=BigIntegerField())
    return (
        invoices.alias(_cn_credit=_credit_note_client_credit())
        .annotate(
            balance_due_cents=_balance_due(),
            paid_cents=Coalesce(F("settlement__paid_cents"), zero) - F("_cn_credit"),
            credited_cents=Coalesce(F("settlement__credited_cents"), zero) + F("_cn_credit"),
            written_off_cents=Coalesce(F("settlement__written_off_cents"), zero),
        )
        .annotate(
            settled_on=Case(
                When(issued & Q(balance_due_cents__lte=0), then=_last_movement()),
                default=None,
            ),
        )
    )


def invoice_money(invoices: Iterable[Invoice], *, as_of: date) -> dict[int, InvoiceMoney]:
    """The money of each invoice, keyed by id, for lists: one query for all of them plus one per
    registered refunds provider (credits), whatever their number. ``as_of`` is "today" (the
    firm's date) for the overdue rule."""
    ids = sorted({inv.pk for inv in invoices})
    if not ids:
        return {}
    annotated = _money_annotate(Invoice.objects.filter(pk__in=ids))
    return dict(_money_of(list(annotated.values_list("pk", *_MONEY_COLUMNS)), as_of=as_of))


def invoices_with_money(
    invoices: QuerySet[Invoice], *, as_of: date
) -> list[tuple[Invoice, InvoiceMoney]]:
    """``invoices`` (in their order) each with its ``invoice_money``, read with it in the same
    statement (plus the refunds providers'), for a list that loads the invoices anyway."""
    loaded = list(_money_annotate(invoices))
    money = dict(
        _money_of(
            [(inv.pk, *(getattr(inv, c) for c in _MONEY_COLUMNS)) for inv in loaded], as_of=as_of
        )
    )
    return [(inv, money[inv.pk]) for inv in loaded]


_MONEY_COLUMNS = (
    "status",
    "due_date",
    "total_cents",
    "paid_cents",
    "credited_cents",
    "written_off_cents",
    "balance_due_cents",
    "settled_on",
)


def _money_of(rows: list[tuple[Any, ...]], *, as_of: date) -> list[tuple[int, InvoiceMoney]]:
    """``InvoiceMoney`` of rows (id, then ``_MONEY_COLUMNS``), with the issued ones' refunds."""
    refunded = hooks.invoice_refunds([r[0] for r in rows if r[1] == InvoiceStatus.ISSUED])
    return [
        (
            pk,
            InvoiceMoney(
                state=payment_state_for(
                    status=status,
                    total_cents=total,
                    paid_cents=paid,
                    credited_cents=credited,
                    written_off_cents=written_off,
                    balance_due_cents=balance,
                    due_date=due_date,
                    as_of=as_of,
                ),
                total_cents=int(total),
                paid_cents=int(paid),
                credited_cents=int(credited),
                written_off_cents=int(written_off),
                refunded_cents=refunded.get(pk, 0),
                balance_due_cents=int(balance),
                settled_on=settled_on,
            ),
        )
        for pk, status, due_date, total, paid, credited, written_off, balance, settled_on in rows
    ]


def balance_due_totals(invoices: QuerySet[Invoice]) -> tuple[int, int]:
    """The cents due on ``invoices`` and how many of them owe (issued, with a balance due), in
    one statement: the sums of their ``invoice_money`` ``balance_due_cents`` above zero."""
    row = (
        invoices.order_by()
        .annotate(due=_balance_due())
        .filter(due__gt=0)
        .aggregate(total=Sum("due"), owing=Count("pk"))
    )
    return int(row["total"] or 0), int(row["owing"])


def _balance_due() -> Any:
    """Cents due on an invoice: its settlement's balance (its total before it has one) when
    issued, 0 for drafts and void invoices."""
    return Case(
        When(
            status=InvoiceStatus.ISSUED,
            then=Coalesce(F("settlement__balance_due_cents"), F("total_cents")),
        ),
        default=Value(0, output_field=BigIntegerField()),
        output_field=BigIntegerField(),
    )


def invoice_money_one(invoice: Invoice, *, as_of: date) -> InvoiceMoney:
    """``invoice_money`` of one invoice."""
    return invoice_money([invoice], as_of=as_of)[invoice.pk]


def invoice_balance_due(invoice: Invoice) -> int:
    """Cents still due on an issued invoice (its total when nothing was received yet; 0 for
    drafts and void invoices)."""
    if invoice.status != InvoiceStatus.ISSUED:
        return 0
    settlement = InvoiceSettlement.objects.filter(invoice_id=invoice.pk).first()
    return invoice.total_cents if settlement is None else settlement.balance_due_cents


def open_invoices_for(client: Client, matter: Matter | None = None) -> list[Invoice]:
    """Issued invoices of ``client`` (and ``matter``) with a balance due, oldest first (due
    date, issue date, id), each with ``settlement`` loaded (billing's issue hook made it)."""
    invoices = Invoice.objects.filter(client=client, status=InvoiceStatus.ISSUED)
    if matter is not None:
        invoices = invoices.filter(matter=matter)
    return list(
        invoices.filter(settlement__balance_due_cents__gt=0)
        .select_related("settlement", "matter")
        .order_by("due_date", "issue_date", "id")
    )


def client_unapplied_cents(client: Client) -> int:
    """The client's unapplied credit that may be spent: less what is held for card refunds
    at the processor."""
    total = Payment.objects.filter(client=client, status=PaymentStatus.RECEIVED).aggregate(
        total=Sum(F("unapplied_cents") - F("refund_pending_cents"))
    )["total"]
    return int(total or 0)


def payment_list(
    *,
    client: Client | None = None,
    status: str | None = None,
    method: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("client", "matter", "created_by")
    if client is not None:
        payments = payments.filter(client=client)
    if status:
        payments = payments.filter(status=status)
    if method:
        payments = payments.filter(method=method)
    if date_from:
        payments = payments.filter(received_date__gte=date_from)
    if date_to:
        payments = payments.filter(received_date__lte=date_to)
    return payments.order_by("-received_date", "-id")


def payment_detail(payment_id: int) -> Payment:
    return (
        Payment.objects.select_related("client", "matter", "checkout", "created_by")
        .prefetch_related(
            "allocations__invoice", "refunds", "provider_refunds__reopenings__invoice", "disputes"
        )
        .get(pk=payment_id)
    )


# --- verification ----------------------------------------------------------------------------

# Which part of an invoice's money an A/R posting moves, by the kind of its entry (a reversal
# counts as the kind of the entry it reverses, with the opposite sign).
_AR_PART_BY_KIND: dict[str, str] = {
    EntryKind.INVOICE_ISSUED: "issued",
    EntryKind.PAYMENT_RECEIVED: "paid",
    EntryKind.PAYMENT_APPLIED: "paid",
    EntryKind.TRUST_TRANSFER_EARNED: "paid",
    EntryKind.CREDIT_NOTE: "credited",
    EntryKind.WRITE_OFF: "written_off",
    EntryKind.WRITE_OFF_REVERSAL: "written_off",
}


def _ledger_parts(invoice_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per invoice: the A/R postings summed by part (issued as a debit, the rest as credits,
    so each is positive in normal use), ``ar`` the invoice's A/R balance, ``other`` any A/R
    posting of a kind no part explains, and ``cn_credit`` the credit notes' client-credit part."""
    out: dict[int, dict[str, int]] = {}
    ar_rows = (
        Posting.objects.filter(
            invoice_id__in=invoice_ids, account__code=accounts.ACCOUNTS_RECEIVABLE
        )
        .values("invoice_id", "entry__kind", "entry__reverses__kind")
        .annotate(s=Sum("amount_cents"))
        .order_by()
    )
    for row in ar_rows:
        parts = out.setdefault(row["invoice_id"], {})
        cents = int(row["s"])
        kind = row["entry__reverses__kind"] or row["entry__kind"]
        part = _AR_PART_BY_KIND.get(kind, "other")
        parts["ar"] = parts.get("ar", 0) + cents
        parts[part] = parts.get(part, 0) + (cents if part in {"issued", "other"} else -cents)
    cn_rows = (
        Posting.objects.filter(
            invoice_id__in=invoice_ids,
            account__code=accounts.UNAPPLIED_CLIENT_CREDITS,
            entry__kind=EntryKind.CREDIT_NOTE,
        )
        .values("invoice_id")
        .annotate(s=Sum("amount_cents"))
        .order_by()
    )
    for cn_row in cn_rows:
        out.setdefault(cn_row["invoice_id"], {})["cn_credit"] = -int(cn_row["s"])
    return out


def invoices_verify(*, as_of: date, chunk: int = 1000) -> list[str]:
    """Check every issued or void invoice's settlement row, payment state and balance due
    against the ledger's A/R postings naming it. Returns one line per difference (empty: all
    agree). The ledger is the truth: what an invoice received is the A/R credits of payment
    and trust-transfer entries, its credits those of credit notes, its write-offs those of
    write-offs and their reversals; its balance due is its A/R balance."""

    def fmt(cents: int) -> str:
        return f"{cents / 100:,.2f}" if isinstance(cents, int) else str(cents)

    problems: list[str] = []
    invoices = Invoice.objects.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID]
    ).order_by("id")
    settlements = {
        s.invoice_id: s
        for s in InvoiceSettlement.objects.all().only(
            "invoice_id", "total_cents", "paid_cents", "credited_cents", "written_off_cents"
        )
    }
    seen: set[int] = set()
    last_id = 0
    while True:
        batch = list(invoices.filter(id__gt=last_id)[:chunk])
        if not batch:
            break
        last_id = batch[-1].pk
        ids = [inv.pk for inv in batch]
        ledger = _ledger_parts(ids)
        money = invoice_money(batch, as_of=as_of)
        for inv in batch:
            seen.add(inv.pk)
            name = f"invoice {inv.number or inv.pk} (#{inv.pk})"
            parts = ledger.get(inv.pk, {})
            ar = parts.get("ar", 0)
            m = money[inv.pk]
            if parts.get("other"):
                problems.append(
                    f"{name}: {fmt(parts['other'])} of A/R postings of a kind no invoice part "
                    "explains"
                )
            if inv.status == InvoiceStatus.VOID:
                if ar != 0:
                    problems.append(f"{name}: void but its A/R balance in the ledger is {fmt(ar)}")
                if m.balance_due_cents != 0 or m.state != InvoicePaymentState.VOID:
                    problems.append(
                        f"{name}: void but shown as {m.state} with {fmt(m.balance_due_cents)} due"
                    )
                continue
            issued = parts.get("issued", 0)
            if issued != inv.total_cents:
                problems.append(
                    f"{name}: total {fmt(inv.total_cents)}, issued to A/R in the ledger "
                    f"{fmt(issued)}"
                )
            settlement = settlements.get(inv.pk)
            stored = {
                "total": inv.total_cents if settlement is None else settlement.total_cents,
                "paid": 0 if settlement is None else settlement.paid_cents,
                "credited": 0 if settlement is None else settlement.credited_cents,
                "written_off": 0 if settlement is None else settlement.written_off_cents,
            }
            if stored["total"] != inv.total_cents:
                problems.append(
                    f"{name}: settlement total {fmt(stored['total'])}, invoice total "
                    f"{fmt(inv.total_cents)}"
                )
            for part, label in (
                ("paid", "paid"),
                ("credited", "credited"),
                ("written_off", "written off"),
            ):
                if stored[part] != parts.get(part, 0):
                    problems.append(
                        f"{name}: {label} {fmt(stored[part])} in the settlement, "
                        f"{fmt(parts.get(part, 0))} in the ledger"
                    )
            if m.balance_due_cents != ar:
                problems.append(
                    f"{name}: balance due {fmt(m.balance_due_cents)} shown, A/R balance "
                    f"{fmt(ar)} in the ledger"
                )
            cn_credit = parts.get("cn_credit", 0)
            expected = payment_state_for(
                status=inv.status,
                total_cents=issued,
                paid_cents=parts.get("paid", 0) - cn_credit,
                credited_cents=parts.get("credited", 0) + cn_credit,
                written_off_cents=parts.get("written_off", 0),
                balance_due_cents=ar,
                due_date=inv.due_date,
                as_of=as_of,
            )
            if m.state != expected:
                problems.append(f"{name}: shown as {m.state}, the ledger says {expected.value}")
    for invoice_id in sorted(set(settlements) - seen):
        problems.append(
            f"invoice #{invoice_id}: has a settlement row but is neither issued nor void"
        )
    return problems


def invoice_payment_activity(invoice: Invoice, user: Any) -> list[InvoiceActivity]:
    """The payments applied to ``invoice`` (at receipt or later from unapplied credit), for its
    page's "Payments and adjustments" (``billing.hooks.register_invoice_activity_listener``)."""
    from django.urls import reverse

    from caseledger.core.permissions import authorize

    may_open = authorize(user, "payments.view")
    rows = []
    for alloc in (
        PaymentAllocation.objects.filter(invoice_id=invoice.pk)
        .select_related("payment")
        .order_by("applied_date", "id")
    ):
        payment = alloc.payment
        detail = payment.get_method_display()
        if payment.reference:
            detail += f" {payment.reference}"
        if alloc.from_credit:
            detail += " · applied from unapplied credit"
        rows.append(
            InvoiceActivity(
                on=alloc.applied_date,
                kind="Payment",
                document=payment.number,
                detail=detail,
                amount_cents=alloc.amount_cents,
                url=reverse("payments:detail", args=[payment.pk]) if may_open else None,
                at=alloc.created_at,
            )
        )
    return rows


def payments_ledger_verify() -> list[str]:
    """Each payment's amount against its receipt entry (the debits: operating bank plus card
    fee), its fee against the card-fee posting, and each allocation against the A/R credit its
    entry posted for that invoice. One line per difference, naming the record."""
    problems: list[str] = []
    fee_code = accounts.CARD_PROCESSING_FEES
    debits: dict[int, int] = {}
    fees: dict[int, int] = {}
    for entry_id, code, cents in Posting.objects.filter(
        entry_id__in=Payment.objects.values("entry_id"), amount_cents__gt=0
    ).values_list("entry_id", "account__code", "amount_cents"):
        debits[entry_id] = debits.get(entry_id, 0) + cents
        if code == fee_code:
            fees[entry_id] = fees.get(entry_id, 0) + cents
    for pid, number, amount, fee, entry_id in Payment.objects.order_by("id").values_list(
        "id", "number", "amount_cents", "fee_cents", "entry_id"
    ):
        if entry_id is None:
            continue
        if debits.get(entry_id, 0) != amount:
            problems.append(
                f"payment {number} (#{pid}): amount {amount}, its entry JE-{entry_id} "
                f"received {debits.get(entry_id, 0)}"
            )
        if fees.get(entry_id, 0) != fee:
            problems.append(
                f"payment {number} (#{pid}): fee {fee}, its entry JE-{entry_id} posted "
                f"{fees.get(entry_id, 0)} of card fees"
            )
    allocated: dict[tuple[int, int], int] = {}
    for entry_id, invoice_id, cents in PaymentAllocation.objects.values_list(
        "entry_id", "invoice_id", "amount_cents"
    ):
        key = (entry_id, invoice_id)
        allocated[key] = allocated.get(key, 0) + cents
    credited: dict[tuple[int, int], int] = {}
    for entry_id, invoice_id, cents in Posting.objects.filter(
        entry_id__in=PaymentAllocation.objects.values("entry_id"),
        account__code=accounts.ACCOUNTS_RECEIVABLE,
        invoice_id__isnull=False,
    ).values_list("entry_id", "invoice_id", "amount_cents"):
        key = (entry_id, invoice_id)
        credited[key] = credited.get(key, 0) - cents
    for (entry_id, invoice_id), cents in sorted(allocated.items()):
        if credited.get((entry_id, invoice_id), 0) != cents:
            problems.append(
                f"invoice #{invoice_id}: allocations of {cents} in entry JE-{entry_id}, "
                f"the ledger credits A/R {credited.get((entry_id, invoice_id), 0)}"
            )
    issued: dict[tuple[int, int], int] = {}
    for entry_id, invoice_id, cents in Posting.objects.filter(
        entry_id__in=Invoice.objects.filter(issue_entry__isnull=False).values("issue_entry_id"),
        account__code=accounts.ACCOUNTS_RECEIVABLE,
        invoice_id__isnull=False,
    ).values_list("entry_id", "invoice_id", "amount_cents"):
        issued[(entry_id, invoice_id)] = issued.get((entry_id, invoice_id), 0) + cents
    for iid, inv_number, total, entry_id in (
        Invoice.objects.filter(issue_entry__isnull=False)
        .order_by("id")
        .values_list("id", "number", "total_cents", "issue_entry_id")
    ):
        if issued.get((entry_id, iid), 0) != total:
            problems.append(
                f"invoice {inv_number or iid} (#{iid}): total {total}, its issue entry "
                f"JE-{entry_id} debited A/R {issued.get((entry_id, iid), 0)}"
            )
    return problems


def invoices_verify_today() -> list[str]:
    """``invoices_verify`` as of the firm's today (for ``manage.py verify``)."""
    from caseledger.core import clock

    return invoices_verify(as_of=clock.firm_today())


# --- the invoice tally (models.InvoiceTally) ------------------------------------------------


@dataclass(frozen=True)
class InvoiceTotals:
    count: int
    total_cents: int
    balance_due_cents: int


def invoice_tally(*, status: str = "", partner_id: int | None = None) -> InvoiceTotals:
    """The count, total and balance due of every invoice (of ``status`` and of responsible
    partner ``partner_id`` when given), exact to the cent, from the tally: one query over its
    delta rows, whatever the number of invoices."""
    rows = InvoiceTally.objects.all()
    if status:
        rows = rows.filter(status=status)
    if partner_id:
        rows = rows.filter(responsible_partner_id=partner_id)
    sums = rows.aggregate(n=Sum("invoice_count"), t=Sum("total_cents"), b=Sum("balance_due_cents"))
    return InvoiceTotals(
        count=int(sums["n"] or 0),
        total_cents=int(sums["t"] or 0),
        balance_due_cents=int(sums["b"] or 0),
    )


INVOICE_TALLY_DIFFERS = (
    "invoice tally {status}/partner {partner}: the tally has {stored}, the invoices give {actual}"
)


def invoice_tally_verify() -> list[str]:
    """``manage.py verify`` check ``invoice_tally``: per (status, responsible partner), the
    tally's sums against the direct aggregate of the invoices and their settlements; one line
    per key that differs (keys whose sums are all zero are absent on both sides)."""
    from django.db import connection

    from caseledger.payments.tally import KEY, NONZERO, SUMS, TALLY, TALLY_FROM_INVOICES

    with connection.cursor() as cur:
        cur.execute(TALLY_FROM_INVOICES)
        want = {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in cur.fetchall()}
        cur.execute(f"SELECT {KEY}, {SUMS} FROM {TALLY} GROUP BY {KEY} HAVING {NONZERO}")
        have = {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in cur.fetchall()}

    def show(sums: tuple[int, ...] | None) -> str:
        if sums is None:
            return "nothing"
        count, total, balance = sums
        return f"{count} invoices, {total} cents total, {balance} cents due"

    return [
        INVOICE_TALLY_DIFFERS.format(
            status=key[0], partner=key[1], stored=show(have.get(key)), actual=show(want.get(key))
        )
        for key in sorted(want.keys() | have.keys(), key=lambda k: (k[0], k[1] or 0))
        if have.get(key) != want.get(key)
    ]
