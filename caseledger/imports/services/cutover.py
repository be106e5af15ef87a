"""The cutover: save the draft figures, prove they tie, and finalize the opening balances
through the ledger."""

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

    @property
    def trust_ties(self) -> bool:
        return self.trust_total == self.trust_bank

    @property
    def ar_ties(self) -> bool:
        return self.ar_total == self.aging_total

    @property
    def ok(self) -> bool:
        return self.trust_ties and self.ar_ties and not self.negatives


def cutover_proof(cutover: Cutover) -> CutoverProof:
    """The three checks finalize makes, for the page and for finalize itself."""
    trust = OpeningBalance.objects.filter(kind=RecordKind.TRUST).select_related("client", "matter")
    per_ledger: dict[tuple[str, str], int] = defaultdict(int)
    for row in trust:
        per_ledger[(row.client.name, row.matter.number if row.matter else "")] += row.amount_cents
    negatives = [(c, m, a) for (c, m), a in sorted(per_ledger.items()) if a < 0]
    ar = sum(i.balance_cents for i in LegacyInvoice.objects.filter(balance_cents__gt=0))
    credit = sum(
        OpeningBalance.objects.filter(kind=RecordKind.CREDIT).values_list("amount_cents", flat=True)
    )
    return CutoverProof(
        trust_total=sum(per_ledger.values()),
        trust_bank=cutover.trust_bank_cents,
        ar_total=ar,
        aging_total=cutover.aging_total_cents,
        credit_total=credit,
        negatives=negatives,
    )


def _finalize_check(cutover: Cutover, proof: CutoverProof) -> None:
    """Refuse finalizing (CutoverRefused) when a client ledger is negative, the trust balances
    do not sum to the trust bank balance, or A/R does not equal the aging total."""
    from caseledger.core.amounts import firm_money

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


def _finalize_record(
    cutover: Cutover, entries: list[int], proof: CutoverProof, actor: Any, now: datetime
) -> None:
    """Mark the cutover finalized with its entries, and record the audit event."""
    cutover.status = CutoverStatus.FINALIZED
    cutover.entries = entries
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
        },
    )


@transaction.atomic
def cutover_finalize(*, cutover: Cutover, actor: Any, now: datetime) -> Cutover:
    """Post the opening balances as of the cutover date through the ledger, balanced against
    owners' equity (3000): A/R per open legacy invoice, unapplied credit per client, trust per
    client and matter (trust bank against client trust liability). Refused (CutoverRefused,
    nothing posted) unless the trust balances sum to the entered trust bank balance, no client
    ledger is negative, and A/R equals the old system's aging total."""
    cutover = locks.cutover_lock(cutover_id=cutover.pk)
    if cutover.status == CutoverStatus.FINALIZED:
        raise CutoverRefused(
            CUTOVER_FINALIZED.format(date=cutover.as_of.isoformat()), field="cutover"
        )
    proof = cutover_proof(cutover)
    _finalize_check(cutover, proof)
    entries = _opening_ar_post(cutover, proof.ar_total, actor, now)
    entries += _opening_credit_post(cutover, actor, now)
    entries += _opening_trust_post(cutover, actor, now)
    _finalize_record(cutover, entries, proof, actor, now)
    return cutover
