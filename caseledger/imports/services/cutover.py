"""The cutover: save the draft figures, prove they tie, finalize the opening balances through
the ledger with the trust bank's side of that day, and prepare the firm's first three-way
reconciliation as of the cutover date (signed on the banking reconciliation page)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from caseledger.core import audit, clock
from caseledger.imports import locks
from caseledger.imports.choices import CutoverStatus, RecordKind
from caseledger.imports.exceptions import CutoverRefused
from caseledger.imports.models import (
    Cutover,
    LegacyInvoice,
    OpeningBalance,
)

if TYPE_CHECKING:
    from caseledger.banking.models import BankAccount, BankStatement, Reconciliation
    from caseledger.ledger.services import PostingLine

CUTOVER_FINALIZED = "cutover: already finalized on {date}"
CUTOVER_TRUST = (
    "trust_bank: imported trust balances sum to {imported} but the trust bank balance on "
    "{as_of} is {entered}; they must be equal"
)
CUTOVER_NEGATIVE = "trust: client {client} has a negative trust balance ({amount}) on {matter}"
CUTOVER_AR = (
    "aging_total: open legacy invoices sum to {imported} but the old system's aging total is "
    "{entered}; they must be equal"
)
CUTOVER_OPEN = "cutover: a cutover for {as_of} is still a draft; finalize or change it"
CUTOVER_NO_BANK = (
    "trust_bank: no bank account is mapped to the trust bank ledger account {code}; add it "
    "under Bank accounts first (the cutover's three-way reconciliation is of that account)"
)
CUTOVER_STATEMENT = (
    "trust_bank: the statement of {name} imported for {as_of} closes at {closing} but the "
    "trust bank balance entered is {entered}; they must be equal"
)
CUTOVER_NOT_FINALIZED = (
    "cutover: finalize the cutover first; its reconciliation is of the opening balances"
)
CUTOVER_NO_BANK_SIDE = (
    "cutover: the firm had no trust bank account and no trust money at the cutover; there is "
    "no reconciliation to prepare"
)
CUTOVER_RECONCILIATION_LIVE = "cutover: the reconciliation as of {as_of} is already {status}"


@transaction.atomic
def cutover_save(
    *, as_of: date, trust_bank_cents: int, aging_total_cents: int, actor: Any, now: datetime
) -> Cutover:
    """Create or change the draft cutover (the figures the opening balances must tie to)."""
    clock.date_check(as_of, field="as_of")
    done = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("id").first()
    if done is not None:
        raise CutoverRefused(CUTOVER_FINALIZED.format(date=done.as_of.isoformat()), field="as_of")
    cutover = locks.draft_cutover_lock()
    before = None
    if cutover is None:
        cutover = Cutover(created_by=actor, created_at=now)
    else:
        before = {
            "as_of": cutover.as_of,
            "trust_bank_cents": cutover.trust_bank_cents,
            "aging_total_cents": cutover.aging_total_cents,
        }
    cutover.as_of = as_of
    cutover.trust_bank_cents = trust_bank_cents
    cutover.aging_total_cents = aging_total_cents
    cutover.save()
    audit.record(
        actor=actor,
        action="imports.cutover_saved",
        at=now,
        obj=cutover,
        before=before,
        after={
            "as_of": as_of,
            "trust_bank_cents": trust_bank_cents,
            "aging_total_cents": aging_total_cents,
        },
    )
    return cutover


@dataclass
class CutoverProof:
    trust_total: int
    trust_bank: int
    ar_total: int
    aging_total: int
    credit_total: int
    negatives: list[tuple[str, str, int]]
    # The trust bank's bank account (banking), and the closing balance of the statement
    # imported for the cutover date, if any (the trust bank balance must be it).
    bank_account: BankAccount | None = None
    statement_closing: int | None = None

    @property
    def trust_ties(self) -> bool:
        return self.trust_total == self.trust_bank

    @property
    def ar_ties(self) -> bool:
        return self.ar_total == self.aging_total

    @property
    def bank_ties(self) -> bool:
        """The bank side can be recorded: the trust bank's account exists (not needed by a
        firm with no trust money) and a statement imported for the day closes at the
        balance."""
        if self.bank_account is None:
            return self.trust_total == 0 and self.trust_bank == 0
        return self.statement_closing is None or self.statement_closing == self.trust_bank

    @property
    def ok(self) -> bool:
        return self.trust_ties and self.bank_ties and self.ar_ties and not self.negatives


def _trust_bank_account() -> BankAccount | None:
    from caseledger.banking.selectors import bank_account_of_ledger
    from caseledger.ledger import accounts

    return bank_account_of_ledger(code=accounts.TRUST_BANK)


def cutover_proof(cutover: Cutover) -> CutoverProof:
    """The checks finalize makes, for the page and for finalize itself."""
    from caseledger.banking.selectors import statement_on

    trust = OpeningBalance.objects.filter(kind=RecordKind.TRUST).select_related("client", "matter")
    per_ledger: dict[tuple[str, str], int] = defaultdict(int)
    for row in trust:
        per_ledger[(row.client.name, row.matter.number if row.matter else "")] += row.amount_cents
    negatives = [(c, m, a) for (c, m), a in sorted(per_ledger.items()) if a < 0]
    ar = sum(i.balance_cents for i in LegacyInvoice.objects.filter(balance_cents__gt=0))
    credit = sum(
        OpeningBalance.objects.filter(kind=RecordKind.CREDIT).values_list("amount_cents", flat=True)
    )
    bank_account = _trust_bank_account()
    statement = (
        statement_on(bank_account=bank_account, day=cutover.as_of)
        if bank_account is not None
        else None
    )
    return CutoverProof(
        trust_total=sum(per_ledger.values()),
        trust_bank=cutover.trust_bank_cents,
        ar_total=ar,
        aging_total=cutover.aging_total_cents,
        credit_total=credit,
        negatives=negatives,
        bank_account=bank_account,
        statement_closing=statement.closing_cents if statement is not None else None,
    )


def _finalize_check(cutover: Cutover, proof: CutoverProof) -> None:
    """Refuse finalizing (CutoverRefused) when a client ledger is negative, the trust balances
    do not sum to the trust bank balance, the trust bank has no bank account (while the firm
    holds trust money) or the statement imported for the day closes at another balance, or
    A/R does not equal the aging total."""
    from caseledger.core.amounts import firm_money
    from caseledger.ledger import accounts

    if proof.negatives:
        client, matter, amount = proof.negatives[0]
        raise CutoverRefused(
            CUTOVER_NEGATIVE.format(client=client, amount=firm_money(amount), matter=matter),
            field="trust",
        )
    if not proof.trust_ties:
        raise CutoverRefused(
            CUTOVER_TRUST.format(
                imported=firm_money(proof.trust_total),
                as_of=cutover.as_of.isoformat(),
                entered=firm_money(proof.trust_bank),
            ),
            field="trust_bank_cents",
        )
    if not proof.bank_ties:
        if proof.bank_account is None:
            raise CutoverRefused(
                CUTOVER_NO_BANK.format(code=accounts.TRUST_BANK), field="trust_bank_cents"
            )
        raise CutoverRefused(
            CUTOVER_STATEMENT.format(
                name=proof.bank_account.name,
                as_of=cutover.as_of.isoformat(),
                closing=firm_money(int(proof.statement_closing or 0)),
                entered=firm_money(proof.trust_bank),
            ),
            field="trust_bank_cents",
        )
    if not proof.ar_ties:
        raise CutoverRefused(
            CUTOVER_AR.format(
                imported=firm_money(proof.ar_total), entered=firm_money(proof.aging_total)
            ),
            field="aging_total_cents",
        )


def _opening_post(
    cutover: Cutover, what: str, key: str, lines: list[PostingLine], actor: Any, now: datetime
) -> int:
    """One opening-balance entry of the cutover (its idempotency key names the part)."""
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import entry_post

    memo = f"Opening balances as of {cutover.as_of.isoformat()} (cutover #{cutover.pk})"
    return entry_post(
        kind=EntryKind.OPENING_BALANCE,
        entry_date=cutover.as_of,
        memo=f"{memo}: {what}",
        lines=lines,
        actor=actor,
        now=now,
        idempotency_key=f"cutover-{cutover.pk}-{key}",
    ).pk


def _opening_ar_post(cutover: Cutover, ar_total: int, actor: Any, now: datetime) -> list[int]:
    """A/R per open legacy invoice against equity; each invoice's A/R ages from its own due
    date and is listed by its number. No entry when no legacy invoice is open."""
    from caseledger.ledger import accounts
    from caseledger.ledger.services import PostingLine

    open_invoices = list(
        LegacyInvoice.objects.filter(balance_cents__gt=0).select_related("matter").order_by("id")
    )
    if not open_invoices:
        return []
    from caseledger.collections.services.aging_facts import receivables

    lines = [
        PostingLine(
            accounts.ACCOUNTS_RECEIVABLE,
            inv.balance_cents,
            client=inv.client_id,
            matter=inv.matter,
        )
        for inv in open_invoices
    ]
    lines.append(PostingLine(accounts.EQUITY, -ar_total))
    with receivables([(inv.due_date, str(inv)) for inv in open_invoices]):
        return [_opening_post(cutover, "accounts receivable", "ar", lines, actor, now)]


def _opening_credit_post(cutover: Cutover, actor: Any, now: datetime) -> list[int]:
    """Unapplied credit per client against equity; no entry when there is none."""
    from caseledger.ledger import accounts
    from caseledger.ledger.services import PostingLine

    credits = list(
        OpeningBalance.objects.filter(kind=RecordKind.CREDIT, amount_cents__gt=0).order_by("id")
    )
    if not credits:
        return []
    lines = [
        PostingLine(accounts.UNAPPLIED_CLIENT_CREDITS, -c.amount_cents, client=c.client_id)
        for c in credits
    ]
    lines.append(PostingLine(accounts.EQUITY, sum(c.amount_cents for c in credits)))
    return [_opening_post(cutover, "unapplied client credit", "credit", lines, actor, now)]


def _opening_trust_post(cutover: Cutover, actor: Any, now: datetime) -> list[int]:
    """Trust per client and matter: trust bank against client trust liability; no entry when
    there is none."""
    from caseledger.ledger import accounts
    from caseledger.ledger.services import PostingLine

    trust = list(
        OpeningBalance.objects.filter(kind=RecordKind.TRUST, amount_cents__gt=0)
        .select_related("matter")
        .order_by("id")
    )
    if not trust:
        return []
    lines = []
    for t in trust:
        lines.append(
            PostingLine(accounts.TRUST_BANK, t.amount_cents, client=t.client_id, matter=t.matter)
        )
        lines.append(
            PostingLine(
                accounts.CLIENT_TRUST_LIABILITY,
                -t.amount_cents,
                client=t.client_id,
                matter=t.matter,
            )
        )
    return [_opening_post(cutover, "client trust", "trust", lines, actor, now)]


def _bank_side(
    cutover: Cutover, proof: CutoverProof, actor: Any, now: datetime
) -> BankStatement | None:
    """The trust bank's side on the cutover date: its books start that day at the trust bank
    balance (the statement imported for the day, or the balance entered, as an opening
    statement). None for a firm with no trust bank account (then it holds no trust money:
    checked)."""
    from caseledger.banking.services import bank_account_books_open

    if proof.bank_account is None:
        return None
    return bank_account_books_open(
        bank_account=proof.bank_account,
        as_of=cutover.as_of,
        balance_cents=cutover.trust_bank_cents,
        actor=actor,
        now=now,
    )


def _reconciliation_prepare(
    cutover: Cutover, statement: BankStatement, actor: Any, now: datetime
) -> Reconciliation:
    from caseledger.banking.reconciliation.services import reconciliation_prepare

    return reconciliation_prepare(
        bank_account=statement.bank_account, period_end=cutover.as_of, actor=actor, now=now
    )


def _finalize_record(
    cutover: Cutover,
    entries: list[int],
    proof: CutoverProof,
    statement: BankStatement | None,
    reconciliation: Reconciliation | None,
    actor: Any,
    now: datetime,
) -> None:
    """Mark the cutover finalized with its entries and bank side, and record the audit
    event."""
    cutover.status = CutoverStatus.FINALIZED
    cutover.entries = entries
    cutover.bank_statement = statement
    cutover.finalized_at = now
    cutover.finalized_by = actor
    cutover.save()
    audit.record(
        actor=actor,
        action="imports.cutover_finalized",
        at=now,
        obj=cutover,
        after={
            "as_of": cutover.as_of,
            "entries": entries,
            "trust_cents": proof.trust_total,
            "ar_cents": proof.ar_total,
            "credit_cents": proof.credit_total,
            "bank_statement": statement.pk if statement is not None else None,
            "reconciliation": reconciliation.pk if reconciliation is not None else None,
        },
    )


@transaction.atomic
def cutover_finalize(*, cutover: Cutover, actor: Any, now: datetime) -> Cutover:
    """Post the opening balances as of the cutover date through the ledger, balanced against
    owners' equity (3000): A/R per open legacy invoice, unapplied credit per client, trust per
    client and matter (trust bank against client trust liability). In the same transaction the
    trust bank's books start that day (``_bank_side``: the statement imported for the cutover
    date, or the entered balance as an opening statement) and, when the date is over, the
    three-way reconciliation as of it is prepared by ``actor`` (balanced: nothing dated on or
    before the books start is an item); a lawyer other than ``actor`` signs it on the banking
    reconciliation page. Refused (CutoverRefused, nothing written) unless the trust balances
    sum to the entered trust bank balance, no client ledger is negative, the trust bank has its
    bank account (a firm with trust money) and a statement imported for the day closes at that
    balance, and A/R equals the old system's aging total."""
    cutover = locks.cutover_lock(cutover_id=cutover.pk)
    if cutover.status == CutoverStatus.FINALIZED:
        raise CutoverRefused(
            CUTOVER_FINALIZED.format(date=cutover.as_of.isoformat()), field="cutover"
        )
    proof = cutover_proof(cutover)
    _finalize_check(cutover, proof)
    # The bank account row before the ledger's (banking's order: bank account -> ledger).
    statement = _bank_side(cutover, proof, actor, now)
    entries = _opening_ar_post(cutover, proof.ar_total, actor, now)
    entries += _opening_credit_post(cutover, actor, now)
    entries += _opening_trust_post(cutover, actor, now)
    reconciliation = None
    if statement is not None and cutover.as_of < clock.firm_date(now):
        reconciliation = _reconciliation_prepare(cutover, statement, actor, now)
    _finalize_record(cutover, entries, proof, statement, reconciliation, actor, now)
    return cutover


@transaction.atomic
def cutover_reconciliation_prepare(
    *, cutover: Cutover, actor: Any, now: datetime
) -> Reconciliation:
    """Prepare the three-way reconciliation as of a finalized cutover's date by ``actor``
    (finalize prepares it itself when the date was over; a cutover dated today waits for
    tomorrow). Refused (CutoverRefused) before finalize, for a firm with no trust bank account
    at the cutover, or when the date's reconciliation is already prepared or signed (prepare
    it again on the reconciliation page); the banking service refuses a date not yet over."""
    from caseledger.banking.reconciliation.selectors import reconciliation_live

    cutover = locks.cutover_lock(cutover_id=cutover.pk)
    if cutover.status != CutoverStatus.FINALIZED:
        raise CutoverRefused(CUTOVER_NOT_FINALIZED, field="cutover")
    statement = cutover.bank_statement
    if statement is None:
        raise CutoverRefused(CUTOVER_NO_BANK_SIDE, field="cutover")
    live = reconciliation_live(statement.bank_account, cutover.as_of)
    if live is not None:
        raise CutoverRefused(
            CUTOVER_RECONCILIATION_LIVE.format(
                as_of=cutover.as_of.isoformat(), status=live.get_status_display().lower()
            ),
            field="cutover",
        )
    return _reconciliation_prepare(cutover, statement, actor, now)
