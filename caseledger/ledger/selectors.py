"""Reads and reports on the ledger. Balances "as of" a date come from postings (one indexed
range scan per account); current balances come from the balance rows entry_post maintains.

Amounts returned are integer cents in the account's normal-balance sign unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, F, QuerySet, Sum, Window
from django.db.models.functions import Abs, Coalesce

from caseledger.core.ids import only_ids
from caseledger.ledger import accounts as codes
from caseledger.ledger.choices import NormalBalance
from caseledger.ledger.models import (
    Account,
    AccountBalance,
    JournalEntry,
    Posting,
    SubledgerBalance,
)


def _pk(obj: Any) -> int:
    """Primary key of a model instance or an id (callers check for None first)."""
    return int(getattr(obj, "pk", obj))


def _sign(normal_balance: str) -> int:
    return 1 if normal_balance == NormalBalance.DEBIT else -1


def postings_exist() -> bool:
    """True once anything has been posted (the firm's currency is then fixed)."""
    return Posting.objects.exists()


def account_get(*, code: str) -> Account:
    return Account.objects.get(code=code)


def account_list(*, include_inactive: bool = True) -> QuerySet[Account]:
    qs = Account.objects.select_related("balance")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("code", "id")


def _raw_balance(
    *, account_id: int, as_of: date | None, client: Any = None, matter: Any = None
) -> int:
    """Debit-positive balance. Current balances read the balance rows; dated ones sum postings."""
    if as_of is None and client is None and matter is None:
        return (
            AccountBalance.objects.filter(account_id=account_id)
            .values_list("balance_cents", flat=True)
            .first()
            or 0
        )
    if as_of is None and client is not None and matter is not None:
        return (
            SubledgerBalance.objects.filter(
                account_id=account_id, client_id=_pk(client), matter_id=_pk(matter)
            )
            .values_list("balance_cents", flat=True)
            .first()
            or 0
        )
    qs = Posting.objects.filter(account_id=account_id)
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    if client is not None:
        qs = qs.filter(client_id=_pk(client))
    if matter is not None:
        qs = qs.filter(matter_id=_pk(matter))
    return int(qs.aggregate(total=Coalesce(Sum("amount_cents"), 0))["total"])


def account_balance(
    *, code: str, as_of: date | None = None, client: Any = None, matter: Any = None
) -> int:
    """Balance of account ``code`` in its normal-balance sign (cents), optionally as of the end
    of ``as_of`` and narrowed to a client and/or matter."""
    account = Account.objects.only("id", "normal_balance").get(code=code)
    raw = _raw_balance(account_id=account.pk, as_of=as_of, client=client, matter=matter)
    return raw * _sign(account.normal_balance)


def receivable_moved_by_other_entries(*, invoice: Any, except_entry_id: int | None) -> bool:
    """Whether any entry but ``except_entry_id`` (an invoice's issue entry) posted to accounts
    receivable for ``invoice``: a payment, a trust application, a credit note, a write-off."""
    return (
        Posting.objects.filter(invoice_id=_pk(invoice), account__code=codes.ACCOUNTS_RECEIVABLE)
        .exclude(entry_id=except_entry_id)
        .exists()
    )


def client_trust_balance(*, client: Any, matter: Any, as_of: date | None = None) -> int:
    """What the firm holds in trust for this client and matter (cents, never negative)."""
    return account_balance(
        code=codes.CLIENT_TRUST_LIABILITY, as_of=as_of, client=client, matter=matter
    )


def matter_trust_balance_sums(
    as_of: date | None = None, *, kept: bool = False
) -> tuple[QuerySet[Any], int]:
    """The trust liability's postings dated up to ``as_of`` summed per matter, as a grouped
    queryset (``matter_id``, ``total``) a caller may filter or join to its matters, and the sign
    that turns a ``total`` into what the firm holds for the matter (cents). One query.

    ``kept``: when no trust liability posting is dated after ``as_of`` (today's figures), the
    matters' kept balances (``SubledgerBalance``, written with each posting) are those sums:
    read them instead of every posting (a union of two branches whose date test is a one-time
    condition, so one statement and one snapshot; the branch not taken reads nothing). Such a
    queryset can be compiled or joined, not filtered further."""
    account = Account.objects.only("id", "normal_balance").get(code=codes.CLIENT_TRUST_LIABILITY)
    qs = Posting.objects.filter(account_id=account.pk)
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    sums = qs.values("matter_id").annotate(total=Sum("amount_cents")).order_by()
    if kept:
        balances = SubledgerBalance.objects.filter(account_id=account.pk)
        if as_of is None:
            return _held(balances), _sign(account.normal_balance)
        later = Exists(Posting.objects.filter(account_id=account.pk, entry_date__gt=as_of))
        held = _held(balances.filter(~later))
        return held.union(sums.filter(later), all=True), _sign(account.normal_balance)
    return sums, _sign(account.normal_balance)


def _held(balances: QuerySet[SubledgerBalance]) -> QuerySet[Any]:
    return balances.values("matter_id").annotate(total=Sum("balance_cents")).order_by()


def account_balances_as_of(*, account_codes: list[str], as_of: date) -> dict[str, int]:
    """Per account code of ``account_codes``, its balance at the end of ``as_of`` in its
    normal-balance sign (cents; an account without postings may be absent: 0). One statement:
    when no posting of these accounts is dated after ``as_of`` (today's figures), the kept
    balances (``AccountBalance``, written with each posting) are those sums and are read instead
    of every posting; otherwise the postings up to ``as_of`` are summed (a union of two branches
    whose date test is a one-time condition, as ``matter_trust_balance_sums(kept=True)``)."""
    later = Exists(Posting.objects.filter(account__code__in=account_codes, entry_date__gt=as_of))
    kept = (
        AccountBalance.objects.filter(~later, account__code__in=account_codes)
        .values_list("account__code", "account__normal_balance")
        .annotate(total=Sum("balance_cents"))
        .order_by()
    )
    summed = (
        Posting.objects.filter(later, account__code__in=account_codes, entry_date__lte=as_of)
        .values_list("account__code", "account__normal_balance")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    return {
        code: int(total or 0) * _sign(normal)
        for code, normal, total in kept.union(summed, all=True)
    }


def matter_trust_balances(*, matter_ids: list[int], as_of: date | None = None) -> dict[int, int]:
    """Per matter id, what the firm holds in trust for it (cents), in two queries whatever the
    number of matters (a matter's postings all name its one client; past
    ``core.ids.IN_LIST_MAX`` ids, the trust liability's postings of every matter, grouped)."""
    sums, sign = matter_trust_balance_sums(as_of)
    rows = only_ids(sums, "matter_id", matter_ids)
    totals = {int(r["matter_id"]): int(r["total"] or 0) * sign for r in rows}
    return {mid: totals.get(mid, 0) for mid in matter_ids}


def trust_bank_total(*, as_of: date | None = None) -> int:
    """Sum of every trust bank account (cents)."""
    ids = Account.objects.filter(is_trust=True, account_type="ASSET").values_list("id", flat=True)
    return sum(_raw_balance(account_id=a, as_of=as_of) for a in ids)


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    balance_cents: int  # normal-balance sign
    debit_cents: int
    credit_cents: int


@dataclass(frozen=True)
class TrialBalance:
    as_of: date | None
    rows: list[TrialBalanceRow]
    total_debit_cents: int
    total_credit_cents: int

    @property
    def balanced(self) -> bool:
        return self.total_debit_cents == self.total_credit_cents


def trial_balance(*, as_of: date | None = None, include_zero: bool = False) -> TrialBalance:
    """Every account's balance as debit or credit column; the columns are equal when the ledger
    is sound. ``as_of`` None reads balance rows; a date sums postings (one grouped query)."""
    accounts = list(Account.objects.order_by("code", "id"))
    if as_of is None:
        raw = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    else:
        raw = dict(
            Posting.objects.filter(entry_date__lte=as_of)
            .values("account_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("account_id", "total")
        )
    rows = []
    total_dr = total_cr = 0
    for account in accounts:
        value = int(raw.get(account.pk, 0) or 0)
        if value == 0 and not include_zero:
            continue
        debit, credit = (value, 0) if value > 0 else (0, -value)
        total_dr += debit
        total_cr += credit
        rows.append(
            TrialBalanceRow(
                account=account,
                balance_cents=value * _sign(account.normal_balance),
                debit_cents=debit,
                credit_cents=credit,
            )
        )
    return TrialBalance(
        as_of=as_of, rows=rows, total_debit_cents=total_dr, total_credit_cents=total_cr
    )


def account_ledger(
    *,
    account: Account,
    date_from: date | None = None,
    date_to: date | None = None,
    client: Any = None,
    matter: Any = None,
) -> tuple[int, QuerySet[Posting]]:
    """(opening balance, postings with ``running_cents``) for one account, in date order.

    The running balance (normal-balance sign) is a window function over the filtered postings
    plus the opening balance before ``date_from``, so any page of the queryset is correct.
    """
    sign = _sign(account.normal_balance)
    opening = 0
    if date_from is not None:
        before = Posting.objects.filter(account=account, entry_date__lt=date_from)
        if client is not None:
            before = before.filter(client_id=_pk(client))
        if matter is not None:
            before = before.filter(matter_id=_pk(matter))
        opening = sign * int(before.aggregate(t=Coalesce(Sum("amount_cents"), 0))["t"])
    qs = Posting.objects.filter(account=account)
    if date_from is not None:
        qs = qs.filter(entry_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(entry_date__lte=date_to)
    if client is not None:
        qs = qs.filter(client_id=_pk(client))
    if matter is not None:
        qs = qs.filter(matter_id=_pk(matter))
    qs = (
        qs.select_related("entry", "client", "matter", "invoice")
        .annotate(
            abs_cents=Abs("amount_cents"),
            running_raw=Window(
                Sum("amount_cents"), order_by=[F("entry_date").asc(), F("id").asc()]
            ),
        )
        .order_by("entry_date", "id")
    )
    return opening, qs


def running_rows(opening: int, postings: Any, sign: int) -> Iterator[tuple[Posting, int]]:
    """Pair each posting of an account_ledger page with its running balance (normal sign)."""
    for posting in postings:
        yield posting, opening + sign * int(posting.running_raw)


def client_trust_ledger(
    *, client: Any, matter: Any = None, date_from: date | None = None, date_to: date | None = None
) -> tuple[int, QuerySet[Posting]]:
    """The client's trust ledger (client trust liability postings) with running balance."""
    account = Account.objects.get(code=codes.CLIENT_TRUST_LIABILITY)
    return account_ledger(
        account=account, date_from=date_from, date_to=date_to, client=client, matter=matter
    )


def client_trust_balances(*, client: Any = None) -> QuerySet[SubledgerBalance]:
    """Per (client, matter) trust balances held (non-zero), from the balance rows."""
    qs = SubledgerBalance.objects.filter(account__code=codes.CLIENT_TRUST_LIABILITY).exclude(
        balance_cents=0
    )
    if client is not None:
        qs = qs.filter(client_id=_pk(client))
    return (
        qs.select_related("client", "matter")
        .annotate(held_cents=-F("balance_cents"))
        .order_by("client__name", "matter__number", "id")
    )


def entry_get(*, entry_id: int) -> JournalEntry:
    return JournalEntry.objects.select_related("actor", "reverses").get(pk=entry_id)


def entry_postings(*, entry: JournalEntry) -> QuerySet[Posting]:
    return (
        entry.postings.select_related("account", "client", "matter", "invoice")
        .annotate(abs_cents=Abs("amount_cents"))
        .order_by("id")
    )


def entry_reversed_by(*, entry: JournalEntry) -> JournalEntry | None:
    return JournalEntry.objects.filter(reverses=entry).first()


# -- verification ----------------------------------------------------------------------------


def ledger_verify() -> list[str]:
    """Recompute every balance from postings and compare; check every entry sums to zero, no
    client trust balance is negative and trust bank equals the sum of client trust ledgers.

    Returns one line per difference (empty: the ledger is sound). Used by ``verify_ledger``.
    """
    problems: list[str] = []
    unbalanced = (
        Posting.objects.values("entry_id").annotate(total=Sum("amount_cents")).exclude(total=0)
    )
    for row in unbalanced.order_by("entry_id"):
        problems.append(f"entry JE-{row['entry_id']}: postings sum to {row['total']}, not 0")
    empty = JournalEntry.objects.filter(postings__isnull=True).values_list("id", flat=True)
    for entry_id in empty:
        problems.append(f"entry JE-{entry_id}: has no postings")

    accounts = {a.pk: a for a in Account.objects.all()}
    computed = dict(
        Posting.objects.values("account_id")
        .annotate(t=Sum("amount_cents"))
        .values_list("account_id", "t")
    )
    stored = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    for account_id in sorted(set(accounts)):
        want = int(computed.get(account_id) or 0)
        have = stored.get(account_id)
        code = accounts[account_id].code
        if have is None:
            problems.append(f"account {code}: balance row missing (postings say {want})")
        elif have != want:
            problems.append(
                f"account {code}: stored balance {have} != recomputed {want} "
                f"(difference {have - want})"
            )

    sub_computed = {
        (a, c, m): int(t)
        for a, c, m, t in Posting.objects.filter(client__isnull=False, matter__isnull=False)
        .values("account_id", "client_id", "matter_id")
        .annotate(t=Sum("amount_cents"))
        .values_list("account_id", "client_id", "matter_id", "t")
    }
    sub_stored = {
        (a, c, m): b
        for a, c, m, b in SubledgerBalance.objects.values_list(
            "account_id", "client_id", "matter_id", "balance_cents"
        )
    }
    for key in sorted(set(sub_computed) | set(sub_stored)):
        want, have = sub_computed.get(key, 0), sub_stored.get(key, 0)
        if want != have:
            a, c, m = key
            problems.append(
                f"account {accounts[a].code} client {c} matter {m}: stored balance {have} != "
                f"recomputed {want} (difference {have - want})"
            )

    liability = next((a for a in accounts.values() if a.code == codes.CLIENT_TRUST_LIABILITY), None)
    if liability is not None:
        for (a, c, m), raw in sorted(sub_computed.items()):
            if a == liability.pk and raw > 0:
                problems.append(f"client {c} matter {m}: trust balance is negative ({-raw})")
        bank = sum(int(computed.get(a.pk) or 0) for a in accounts.values() if a.is_trust_bank)
        owed = -int(computed.get(liability.pk) or 0)
        client_sum = -sum(raw for (a, _c, _m), raw in sub_computed.items() if a == liability.pk)
        held_for_others = -sum(
            int(computed.get(a.pk) or 0)
            for a in accounts.values()
            if a.code in codes.TRUST_NON_CLIENT_LIABILITIES
        )
        if bank != owed + held_for_others:
            problems.append(
                f"trust: trust bank {bank} != client trust liability {owed} "
                f"+ non-client trust liabilities {held_for_others} "
                f"(difference {bank - owed - held_for_others})"
            )
        if owed != client_sum:
            problems.append(
                f"trust: client trust liability {owed} != sum of client trust ledgers "
                f"{client_sum} (difference {owed - client_sum})"
            )
    # Client cost advances (1300) are what clients owe the firm for fees it paid for them:
    # never a credit balance, in total or for any matter (billing ADR 011).
    advances = next((a for a in accounts.values() if a.code == codes.CLIENT_COST_ADVANCES), None)
    if advances is not None:
        total = int(computed.get(advances.pk) or 0)
        if total < 0:
            problems.append(
                f"account {advances.code}: client cost advances hold a credit balance ({-total}); "
                "fees were billed that the firm never advanced"
            )
        for (a, c, m), raw in sorted(sub_computed.items()):
            if a == advances.pk and raw < 0:
                problems.append(
                    f"account {advances.code} client {c} matter {m}: cost advances hold a credit "
                    f"balance ({-raw})"
                )
    return problems


_ENTRY_ACTIONS = ("ledger.entry_posted", "ledger.entry_reversed")


def entries_audit_verify(*, chunk: int = 2000) -> list[str]:
    """Each journal entry's postings against the lines its audit event recorded when it was
    posted (account code, amount, client, matter, invoice; as multisets). Finds postings added
    to, or changed in, a committed entry even when the balance rows were adjusted to match, and
    entries written without an audit event. One line per difference."""
    from collections import Counter

    from caseledger.core.models import AuditEvent

    codes_by_id = dict(Account.objects.values_list("id", "code"))
    problems: list[str] = []
    last_id = 0
    while True:
        ids = list(
            JournalEntry.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", flat=True)[:chunk]
        )
        if not ids:
            break
        last_id = ids[-1]
        actual: dict[int, Counter[tuple[Any, ...]]] = {i: Counter() for i in ids}
        for entry_id, account_id, cents, client_id, matter_id, invoice_id in (
            Posting.objects.filter(entry_id__in=ids)
            .order_by("id")
            .values_list(
                "entry_id", "account_id", "amount_cents", "client_id", "matter_id", "invoice_id"
            )
        ):
            actual[entry_id][
                (codes_by_id.get(account_id), cents, client_id, matter_id, invoice_id)
            ] += 1
        recorded: dict[int, Counter[tuple[Any, ...]]] = {}
        for object_id, after in AuditEvent.objects.filter(
            object_type="ledger.journalentry",
            action__in=_ENTRY_ACTIONS,
            object_id__in=[str(i) for i in ids],
        ).values_list("object_id", "after"):
            lines = (after or {}).get("lines") or []
            recorded[int(object_id)] = Counter(tuple(line) for line in lines)
        for entry_id in ids:
            want = recorded.get(entry_id)
            if want is None:
                problems.append(f"entry JE-{entry_id}: no audit event records its postings")
                continue
            have = actual[entry_id]
            if have != want:
                extra = sorted((have - want).elements(), key=str)
                missing = sorted((want - have).elements(), key=str)
                problems.append(
                    f"entry JE-{entry_id}: postings differ from its audit event "
                    f"(not in the event: {extra}; missing from the ledger: {missing})"
                )
    return problems
