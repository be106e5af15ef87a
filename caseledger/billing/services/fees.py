"""Government fees on invoices: the three ways a fee is paid (ADR 011), fee advances, the
filing date that decides which fee is in force, and the issue-time checks.

- FIRM_ADVANCE: the firm pays USCIS from operating (``fee_advance_record``: Dr 1300 client cost
  advances, Cr 1000 operating bank), then bills it (issue: Dr A/R, Cr 1300). Issue is REFUSED
  for a fee line that has no matching unbilled advance, so 1300 never holds a credit balance.
- FROM_TRUST: paid by a trust disbursement to DHS/USCIS carrying the fee code; the line shows
  the fee "paid from trust" with amount 0 and nothing is posted.
- CLIENT_DIRECT: the client pays USCIS; the line shows the fee for information, amount 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from caseledger.billing import hooks
from caseledger.billing.choices import (
    INFORMATION_ONLY_PATHS,
    FeeAdvanceMethod,
    FeePath,
    FilingMethod,
    InvoiceStatus,
    LineKind,
)
from caseledger.billing.exceptions import BillingError
from caseledger.billing.fees import (
    PROCLAMATION_CODE,
    auto_fee_codes,
    auto_fee_path,
    government_fee_resolve,
)
from caseledger.billing.locks import fee_advances_lock, invoice_lock, matter_lock
from caseledger.billing.models import FeeAdvance, GovernmentFee, Invoice, InvoiceLine
from caseledger.billing.services.common import firm_currency, parse_amount
from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.permissions import require

FEE_CODE_REQUIRED = "fee_code: choose the government fee (e.g. I129, ACWIA)"
FEE_PATH_INVALID = "fee_path: must be one of {choices} (got {value!r})"
FEE_METHOD_INVALID = "method: must be one of {choices} (got {value!r})"
FILING_METHOD_INVALID = "filing_method: must be one of {choices} (got {value!r})"
FEE_ALREADY_FROM_TRUST = (
    "fee_code: the {code} fee of matter {matter} was paid from trust ({disbursement}); it is "
    "not billed or advanced again"
)
LINE_NOT_GOVERNMENT_FEE = "line: {line!r} is not a government fee line with a fee code"
LINE_NOT_ADVANCED = (
    "invoice: line {line!r} bills a {amount} {code} fee the firm has not advanced; record the "
    "fee advance (Government fees page) before issuing, or mark the line paid from trust or "
    "paid by the client directly"
)
LINE_ADVANCE_AMOUNT = (
    "invoice: line {line!r} bills {amount} but the unbilled {code} advance {advance} is "
    "{advanced}; correct the line or the advance"
)
LINE_PAID_FROM_TRUST = (
    "invoice: line {line!r} bills the {code} fee, which was paid from trust ({disbursement}); "
    "mark the line paid from trust"
)
FILING_DATE_NOT_DRAFT = (
    "filing_date: invoice {invoice} is {status}; the filing date changes only on a draft "
    "(return it to draft first)"
)
GOVERNMENT_FEE_NOT_IN_FORCE = (
    "filing_date: case type {case_type} has no {code} fee in force on {day}"
)
FEE_CHANGED_NOTE = (
    "Fee in force on the filing date {filing}: {new} (the fee on the draft date {drafted} "
    "was {old}; {citation})"
)


def _check_fee_path(fee_path: str) -> None:
    if fee_path not in FeePath.values:
        raise BillingError(
            FEE_PATH_INVALID.format(choices=", ".join(FeePath.values), value=fee_path),
            field="fee_path",
        )


def matter_fee_path_set(*, matter: Any, fee_path: str, actor: Any, now: datetime) -> Any:
    """Set how the matter's government fees are paid by default on its next drafts."""
    from caseledger.billing.models import MatterFeePath

    require(actor, "billing.edit")
    _check_fee_path(fee_path)
    with transaction.atomic():
        row = MatterFeePath.objects.filter(matter=matter).first()
        before = row.fee_path if row else None
        row, _ = MatterFeePath.objects.update_or_create(
            matter=matter, defaults={"fee_path": fee_path, "updated_at": now}
        )
        audit.record(
            actor=actor,
            action="billing.matter_fee_path_set",
            at=now,
            obj=matter,
            before={"fee_path": before},
            after={"fee_path": fee_path},
        )
    return row


def fee_advance_record(
    *,
    matter: Any,
    fee_code: str,
    amount: Any,
    paid_date: date,
    method: str,
    actor: Any,
    now: datetime,
    reference: str = "",
    description: str = "",
    payee: str = "U.S. Department of Homeland Security",
) -> FeeAdvance:
    """Record a government fee the firm paid from operating for ``matter``: Dr 1300 client cost
    advances (client, matter), Cr 1000 operating bank, one entry with its audit event. Refused
    when that fee of the matter was paid from trust or already advanced (the client would pay
    it twice). Raises BillingError naming the field; nothing is written then."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    require(actor, "billing.edit")
    fee_code = fee_code.strip().upper()
    if not fee_code:
        raise BillingError(FEE_CODE_REQUIRED, field="fee_code")
    if method not in FeeAdvanceMethod.values:
        raise BillingError(
            FEE_METHOD_INVALID.format(choices=", ".join(FeeAdvanceMethod.values), value=method),
            field="method",
        )
    clock.date_check(paid_date, field="paid_date")
    cents = parse_amount(amount, field="amount", currency=firm_currency(), allow_zero=False)
    with transaction.atomic():
        matter = matter_lock(matter_id=matter.pk)
        paid = hooks.fee_paid_from_trust(matter_id=matter.pk, fee_code=fee_code)
        if paid:
            raise BillingError(
                FEE_ALREADY_FROM_TRUST.format(
                    code=fee_code, matter=matter.number, disbursement=paid
                ),
                field="fee_code",
            )
        fee = (
            GovernmentFee.objects.filter(case_type_id=matter.case_type_id, code=fee_code)
            .order_by("-effective_date", "id")
            .first()
        )
        text = description.strip() or (fee.name if fee else f"Government fee {fee_code}")
        entry = entry_post(
            kind=EntryKind.COST_ADVANCE,
            entry_date=paid_date,
            memo=f"Fee advance {fee_code} to {payee} · {matter.number}",
            lines=[
                PostingLine(
                    accounts.CLIENT_COST_ADVANCES, cents, client=matter.client, matter=matter
                ),
                PostingLine(accounts.OPERATING_BANK, -cents),
            ],
            actor=actor,
            now=now,
        )
        advance = FeeAdvance.objects.create(
            client_id=matter.client_id,
            matter=matter,
            fee_code=fee_code,
            description=text[:300],
            amount_cents=cents,
            paid_date=paid_date,
            method=method,
            payee=payee.strip()[:200] or "U.S. Department of Homeland Security",
            reference=reference.strip()[:120],
            entry=entry,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="billing.fee_advance_recorded",
            at=now,
            obj=advance,
            after={
                "matter": matter.number,
                "fee_code": fee_code,
                "amount_cents": cents,
                "paid_date": paid_date,
                "method": method,
                "entry": entry.pk,
            },
        )
    return advance


@dataclass(frozen=True)
class FeeLine:
    """What a government-fee line holds once its fee and path are known."""

    fee: GovernmentFee
    fee_path: str
    amount_cents: int  # billed: the fee for FIRM_ADVANCE, 0 otherwise
    note: str


def fee_line_values(
    *,
    matter: Any,
    code: str,
    filing_date: date,
    draft_date: date,
    filing_method: str,
    fee_path: str | None,
) -> FeeLine | None | str:
    """The fee of ``code`` in force on ``filing_date`` for the matter's client, its path (a fee
    paid from trust stays so) and amount, with a note when the draft date had another amount.
    None when the case type has no such fee in force; a string (the reason) when none is due."""
    client = matter.client
    resolution = government_fee_resolve(
        case_type_id=matter.case_type_id,
        code=code,
        on=filing_date,
        client=client,
        filing_method=filing_method,
        matter=matter,
    )
    if resolution.fee is None:
        return resolution.reason or None
    fee = resolution.fee
    if fee.amount_cents == 0:
        return f"{fee.name}: no fee for this employer or filing ({fee.citation})"
    paid = hooks.fee_paid_from_trust(matter_id=matter.pk, fee_code=code)
    path = FeePath.FROM_TRUST if paid else (fee_path or FeePath.FIRM_ADVANCE)
    note = ""
    if filing_date != draft_date:
        earlier = government_fee_resolve(
            case_type_id=matter.case_type_id,
            code=code,
            on=draft_date,
            client=client,
            filing_method=filing_method,
            matter=matter,
        ).fee
        if earlier is not None and earlier.amount_cents != fee.amount_cents:
            note = FEE_CHANGED_NOTE.format(
                filing=filing_date,
                new=firm_money(fee.amount_cents),
                drafted=draft_date,
                old=firm_money(earlier.amount_cents),
                citation=fee.citation or "fee schedule",
            )[:300]
    if paid:
        note = (f"Paid from trust: {paid}. " + note)[:300]
    amount = 0 if path in INFORMATION_ONLY_PATHS else fee.amount_cents
    return FeeLine(fee=fee, fee_path=path, amount_cents=amount, note=note)


def invoice_filing_date_set(
    *,
    invoice: Invoice,
    filing_date: date,
    actor: Any,
    now: datetime,
    filing_method: str | None = None,
) -> Invoice:
    """Set the date the filing is sent (and the filing method) on a draft and re-price its
    government-fee lines at the fees in force on that date for the client; a line whose fee
    differs from the draft date's says so. Refused unless the invoice is a draft."""
    from caseledger.billing.services.invoices import (
        _recompute_totals,
        _refuse_unless_lines_editable,
    )

    clock.date_check(filing_date, field="filing_date")
    if filing_method is not None and filing_method not in (FilingMethod.PAPER, FilingMethod.ONLINE):
        raise BillingError(
            FILING_METHOD_INVALID.format(choices="PAPER, ONLINE", value=filing_method),
            field="filing_method",
        )
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        if invoice.status != InvoiceStatus.DRAFT:
            raise BillingError(
                FILING_DATE_NOT_DRAFT.format(
                    invoice=invoice, status=invoice.get_status_display().lower()
                ),
                field="filing_date",
            )
        _refuse_unless_lines_editable(invoice, actor)
        method = filing_method or invoice.filing_method
        before = {"filing_date": invoice.filing_date, "filing_method": invoice.filing_method}
        draft_date = clock.firm_date(invoice.created_at)
        matter = invoice.matter
        for line in (
            invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE)
            .exclude(fee_code="")
            .order_by("position", "id")
        ):
            values = fee_line_values(
                matter=matter,
                code=line.fee_code,
                filing_date=filing_date,
                draft_date=draft_date,
                filing_method=method,
                fee_path=line.fee_path or FeePath.FIRM_ADVANCE,
            )
            if values is None or isinstance(values, str):
                if values is None and line.fee_code != PROCLAMATION_CODE:
                    raise BillingError(
                        GOVERNMENT_FEE_NOT_IN_FORCE.format(
                            case_type=matter.case_type.name, code=line.fee_code, day=filing_date
                        ),
                        field="filing_date",
                    )
                line.delete()
                continue
            InvoiceLine.objects.filter(pk=line.pk).update(
                government_fee=values.fee,
                description=values.fee.name,
                unit_price_cents=values.amount_cents,
                amount_cents=values.amount_cents,
                fee_amount_cents=values.fee.amount_cents,
                fee_path=values.fee_path,
                fee_note=values.note,
            )
        _add_auto_fee_lines(invoice, filing_date=filing_date, filing_method=method)
        _recompute_totals(invoice, filing_date=filing_date, filing_method=method)
        audit.record(
            actor=actor,
            action="billing.invoice_filing_date_set",
            at=now,
            obj=invoice,
            before=before,
            after={
                "filing_date": filing_date,
                "filing_method": method,
                "total_cents": invoice.total_cents,
            },
        )
    return invoice


def _add_auto_fee_lines(invoice: Invoice, *, filing_date: date, filing_method: str) -> None:
    """On a draft that bills government fees, the fees the matter's facts require and the draft
    lacks (the H-1B proclamation payment, ``fees.auto_fee_codes``) when in force on the date."""
    from caseledger.billing.services.invoices import _add_line

    fee_lines = invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE).exclude(fee_code="")
    codes = list(fee_lines.values_list("fee_code", flat=True))
    if not codes:
        return
    matter = invoice.matter
    position = max(invoice.lines.values_list("position", flat=True), default=0) + 1
    path = fee_lines.order_by("position", "id").values_list("fee_path", flat=True).first()
    for code in auto_fee_codes(matter, codes):
        line_path = auto_fee_path(code, path or FeePath.FIRM_ADVANCE)
        values = fee_line_values(
            matter=matter,
            code=code,
            filing_date=filing_date,
            draft_date=clock.firm_date(invoice.created_at),
            filing_method=filing_method,
            fee_path=line_path or FeePath.FIRM_ADVANCE,
        )
        if not isinstance(values, FeeLine):
            continue
        _add_line(
            invoice,
            kind=LineKind.GOVERNMENT_FEE,
            category=values.fee.category,
            description=values.fee.name,
            quantity=Decimal(1),
            unit_price_cents=values.amount_cents,
            position=position,
            government_fee=values.fee,
            line_date=clock.firm_date(invoice.created_at),
            expense_code=values.fee.expense_code,
            fee_code=code,
            fee_path=values.fee_path,
            fee_amount_cents=values.fee.amount_cents,
            fee_note=values.note,
        )
        position += 1


def invoice_line_fee_path_set(
    *, line: InvoiceLine, fee_path: str, actor: Any, now: datetime
) -> InvoiceLine:
    """Choose how a draft's government fee is paid: billed after the firm advances it, paid from
    the client's trust, or paid by the client directly (the last two carry no amount)."""
    from caseledger.billing.services.invoices import (
        _recompute_totals,
        _refuse_unless_lines_editable,
    )

    _check_fee_path(fee_path)
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=line.invoice_id)
        _refuse_unless_lines_editable(invoice, actor)
        line = InvoiceLine.objects.get(pk=line.pk, invoice=invoice)
        if line.kind != LineKind.GOVERNMENT_FEE or not line.fee_code:
            raise BillingError(LINE_NOT_GOVERNMENT_FEE.format(line=line.description), field="line")
        if fee_path == FeePath.FIRM_ADVANCE:
            paid = hooks.fee_paid_from_trust(matter_id=invoice.matter_id, fee_code=line.fee_code)
            if paid:
                raise BillingError(
                    FEE_ALREADY_FROM_TRUST.format(
                        code=line.fee_code, matter=invoice.matter.number, disbursement=paid
                    ),
                    field="fee_path",
                )
        fee_amount = line.fee_amount_cents or line.amount_cents
        amount = 0 if fee_path in INFORMATION_ONLY_PATHS else fee_amount
        before = {"fee_path": line.fee_path, "amount_cents": line.amount_cents}
        InvoiceLine.objects.filter(pk=line.pk).update(
            fee_path=fee_path,
            fee_amount_cents=fee_amount,
            unit_price_cents=amount,
            amount_cents=amount,
            quantity=1,
        )
        _recompute_totals(invoice)
        audit.record(
            actor=actor,
            action="billing.invoice_line_fee_path_set",
            at=now,
            obj=invoice,
            before={"line": line.pk, **before},
            after={"line": line.pk, "fee_path": fee_path, "amount_cents": amount},
        )
        line.refresh_from_db()
    return line


def issue_fee_advances(
    invoice: Invoice, lines: list[InvoiceLine]
) -> list[tuple[FeeAdvance, InvoiceLine]]:
    """Inside the issuing transaction: pair every billed government-fee line (FIRM_ADVANCE, or a
    legacy line without a path) with an unbilled advance of the same matter, fee code and
    amount, under lock. Raises BillingError naming the line when one is missing, differs, or
    the fee was paid from trust."""
    fee_lines = [
        line
        for line in lines
        if line.kind == LineKind.GOVERNMENT_FEE
        and line.fee_path not in INFORMATION_ONLY_PATHS
        and line.amount_cents > 0
    ]
    if not fee_lines:
        return []
    advances = fee_advances_lock(matter_id=invoice.matter_id)
    free = [a for a in advances if a.invoice_line_id is None]
    pairs: list[tuple[FeeAdvance, InvoiceLine]] = []
    for line in fee_lines:
        if line.fee_code:
            paid = hooks.fee_paid_from_trust(matter_id=invoice.matter_id, fee_code=line.fee_code)
            if paid:
                raise BillingError(
                    LINE_PAID_FROM_TRUST.format(
                        line=line.description, code=line.fee_code, disbursement=paid
                    ),
                    field="invoice",
                )
        same_code = [a for a in free if line.fee_code and a.fee_code == line.fee_code]
        match = next((a for a in same_code if a.amount_cents == line.amount_cents), None)
        if match is None:
            if same_code:
                raise BillingError(
                    LINE_ADVANCE_AMOUNT.format(
                        line=line.description,
                        amount=firm_money(line.amount_cents),
                        code=line.fee_code,
                        advance=same_code[0],
                        advanced=firm_money(same_code[0].amount_cents),
                    ),
                    field="invoice",
                )
            raise BillingError(
                LINE_NOT_ADVANCED.format(
                    line=line.description,
                    amount=firm_money(line.amount_cents),
                    code=line.fee_code or "government",
                ),
                field="invoice",
            )
        free.remove(match)
        pairs.append((match, line))
    return pairs
