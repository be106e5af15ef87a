"""Invoices: drafting, line editing, the status workflow, issue and void.

Status changes go through ``invoice_transition`` and its explicit table. Issue numbers the
invoice from a locked counter row, freezes its content (the database refuses later changes),
posts the journal entry, stores the PDF and queues the email, all in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from caseledger.billing import hooks
from caseledger.billing.calc import (
    LineMoney,
    invoice_totals,
    line_amount_cents,
    quantity_for_minutes,
)
from caseledger.billing.choices import (
    PASS_THROUGH_KINDS,
    ExpenseKind,
    FeeCategory,
    FeePath,
    FilingMethod,
    InvoiceStatus,
    LineKind,
    Payer,
)
from caseledger.billing.exceptions import (
    BillingError,
    InvoiceImmutable,
    InvoiceTransitionError,
    LedesInvalid,
    PayerRuleViolation,
)
from caseledger.billing.fees import auto_fee_codes, auto_fee_path, fee_payer_rule_for
from caseledger.billing.locks import (
    invoice_lock,
    matter_lock,
    unbilled_expenses_lock,
    unbilled_time_lock,
)
from caseledger.billing.models import (
    Expense,
    FeeAdvance,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoicePdf,
    InvoiceTemplate,
    Service,
    TimeEntry,
)
from caseledger.billing.selectors import (
    billing_settings_get,
    invoice_addressee,
    invoice_has_ar_movement,
    invoice_pdf_bytes,
    matter_fee_path_default,
    matter_filing_date,
    payer_rule_get,
)
from caseledger.billing.services.common import (
    firm_currency,
    firm_rounding,
    line_amount_check,
    parse_amount,
    parse_quantity,
)
from caseledger.billing.services.fees import fee_line_values, issue_fee_advances
from caseledger.billing.services.time import (
    activity_code_check,
    expense_code_check,
    task_code_check,
)
from caseledger.core import audit, clock
from caseledger.core.i18n import client_language, long_date
from caseledger.core.money import Money
from caseledger.core.numbering import counter_next
from caseledger.core.permissions import require
from caseledger.core.selectors import firm_get

# The whole workflow: from -> allowed targets.
TRANSITIONS: dict[str, frozenset[str]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.IN_REVIEW, InvoiceStatus.VOID}),
    InvoiceStatus.IN_REVIEW: frozenset(
        {InvoiceStatus.APPROVED, InvoiceStatus.DRAFT, InvoiceStatus.VOID}
    ),
    InvoiceStatus.APPROVED: frozenset({InvoiceStatus.ISSUED, InvoiceStatus.DRAFT}),
    InvoiceStatus.ISSUED: frozenset({InvoiceStatus.VOID}),
    InvoiceStatus.VOID: frozenset(),
}

TRANSITION_REFUSED = "status: an invoice cannot go from {from_status} to {to_status}"
INVOICE_NOT_EDITABLE = (
    "invoice: {invoice} is {status}; issued invoices cannot be edited (issue a credit note)"
)
PAYER_RULE_BROKEN = (
    "bill_to: {category} may not be billed to the beneficiary on {case_type} matters "
    "({citation}) — line {description!r}"
)
FEE_PAYER_RULE_BROKEN = (
    "bill_to: the {fee} fee may never be billed to the beneficiary ({citation}) — line "
    "{description!r}"
)
GOVERNMENT_FEE_LINE_UNCODED = (
    "bill_to: a government-fee line billed to the beneficiary must name its fee code or "
    "service (or bill the petitioner) — line {description!r}"
)
BENEFICIARY_MISSING = "bill_to: matter {matter} has no beneficiary to bill"
DESCRIPTION_REQUIRED = "description: is required"
LINE_KIND_INVALID = "kind: must be one of {choices} (got {value!r})"
CATEGORY_INVALID = "category: must be one of {choices} (got {value!r})"
EMPTY_INVOICE = "invoice: has no lines; add a line before submitting or issuing"
NEGATIVE_TOTAL = "invoice: total must not be negative (got {total})"
RETURN_COMMENT_REQUIRED = "comment: say what the draft needs before returning it"
SELF_APPROVAL = (
    "approve: the firm forbids approving your own draft; another partner must approve {invoice}"
)
VOID_REASON_REQUIRED = "reason: say why the invoice is void"
VOID_AFTER_PAYMENT = (
    "void: invoice {invoice} has payments or credits applied; issue a credit note instead"
)
LEDES_BLOCKS_APPROVAL = (
    "ledes: {invoice} is billed in LEDES and cannot be approved until its LEDES file validates "
    "({count} problem{s}; first: {first})"
)
GOVERNMENT_FEE_MISSING = "template: case type {case_type} has no {code} fee in force on {day}"
LINE_NOT_ON_INVOICE = "line: does not belong to invoice {invoice}"
LINE_EDIT_NOT_DRAFT = (
    "invoice: {invoice} is {status}; lines are added, edited and removed only on a draft "
    "(return it to draft first)"
)

STATUS_ACTIONS = {
    InvoiceStatus.IN_REVIEW: "billing.invoice_submitted",
    InvoiceStatus.APPROVED: "billing.invoice_approved",
    InvoiceStatus.DRAFT: "billing.invoice_returned",
    InvoiceStatus.ISSUED: "billing.invoice_issued",
    InvoiceStatus.VOID: "billing.invoice_voided",
}


def _refuse_unless_lines_editable(invoice: Invoice, actor: Any) -> None:
    """Lines are added, changed and removed only on a draft, by whoever holds ``billing.edit``:
    an invoice in review or approved goes back to draft first, so an approved amount never
    changes without a new approval."""
    require(actor, "billing.edit", invoice)
    _refuse_unless_editable(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise BillingError(
            LINE_EDIT_NOT_DRAFT.format(
                invoice=invoice, status=invoice.get_status_display().lower()
            ),
            field="invoice",
        )


def _refuse_unless_editable(invoice: Invoice) -> None:
    if not invoice.is_editable:
        raise InvoiceImmutable(
            INVOICE_NOT_EDITABLE.format(
                invoice=invoice, status=invoice.get_status_display().lower()
            ),
            field="invoice",
        )


def payer_check(
    *,
    matter: Any,
    bill_to: str,
    category: str,
    description: str,
    fee_code: str = "",
    service_id: int | None = None,
    kind: str = "",
) -> None:
    """Raise PayerRuleViolation when the beneficiary may not pay the line: first the rules
    attached to its fee code or service (or, for a line without a code, named in its
    description: "ACWIA"), whatever its category; then the case type's category rule. A
    government-fee line without a fee code or service may only be billed to the petitioner.
    The petitioner may always be billed."""
    if bill_to != Payer.BENEFICIARY:
        return
    fee_rule = fee_payer_rule_for(fee_code=fee_code, service_id=service_id, description=description)
    if fee_rule is not None:
        raise PayerRuleViolation(
            FEE_PAYER_RULE_BROKEN.format(
                fee=fee_rule.fee_code or fee_rule.service,
                citation=fee_rule.citation,
                description=description,
            ),
            field="bill_to",
        )
    rule = payer_rule_get(case_type_id=getattr(matter, "case_type_id", None), category=category)
    if rule is not None and not rule.beneficiary_may_pay:
        raise PayerRuleViolation(
            PAYER_RULE_BROKEN.format(
                category=FeeCategory(category).label.lower(),
                case_type=matter.case_type.name,
                citation=rule.citation,
                description=description,
            ),
            field="bill_to",
        )
    if kind == LineKind.GOVERNMENT_FEE and not fee_code and service_id is None:
        raise PayerRuleViolation(
            GOVERNMENT_FEE_LINE_UNCODED.format(description=description), field="bill_to"
        )


def _recompute_totals(invoice: Invoice, **extra: Any) -> None:
    """Subtotal, tax and total from the lines (each line already rounded once); ``extra``
    columns are written in the same UPDATE."""
    settings = billing_settings_get()
    lines = list(invoice.lines.order_by("position", "id"))
    totals = invoice_totals(
        lines=[LineMoney(line.amount_cents, line.taxable) for line in lines],
        tax_mode=settings.tax_mode,
        rate_bp=settings.tax_rate_bp,
        rule=firm_rounding(),
    )
    for line, tax in zip(lines, totals.line_tax_cents, strict=True):
        if line.tax_cents != tax:
            InvoiceLine.objects.filter(pk=line.pk).update(tax_cents=tax)
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal_cents=totals.subtotal_cents,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        **extra,
    )
    for key, value in extra.items():
        setattr(invoice, key, value)
    invoice.subtotal_cents = totals.subtotal_cents
    invoice.tax_cents = totals.tax_cents
    invoice.total_cents = totals.total_cents


def _next_position(invoice: Invoice) -> int:
    return (invoice.lines.aggregate(m=Max("position"))["m"] or 0) + 1


def _add_line(
    invoice: Invoice,
    *,
    kind: str,
    category: str,
    description: str,
    quantity: Decimal,
    unit_price_cents: int,
    position: int,
    service: Service | None = None,
    government_fee: Any = None,
    line_date: Any = None,
    timekeeper: Any = None,
    task_code: str = "",
    activity_code: str = "",
    expense_code: str = "",
    fee_code: str = "",
    fee_path: str = "",
    fee_amount_cents: int = 0,
    fee_note: str = "",
) -> InvoiceLine:
    payer_check(
        matter=invoice.matter,
        bill_to=invoice.bill_to,
        category=category,
        description=description,
        fee_code=fee_code,
        service_id=service.pk if service is not None else None,
        kind=kind,
    )
    return InvoiceLine.objects.create(
        fee_code=fee_code,
        fee_path=fee_path,
        fee_amount_cents=fee_amount_cents,
        fee_note=fee_note[:300],
        invoice=invoice,
        position=position,
        kind=kind,
        category=category,
        service=service,
        government_fee=government_fee,
        description=description[:300],
        line_date=line_date,
        timekeeper=timekeeper,
        quantity=quantity,
        unit_price_cents=unit_price_cents,
        amount_cents=line_amount_cents(
            quantity=quantity, unit_price_cents=unit_price_cents, rule=firm_rounding()
        ),
        taxable=kind not in PASS_THROUGH_KINDS and kind != LineKind.EXPENSE,
        utbms_task_code=task_code,
        utbms_activity_code=activity_code,
        utbms_expense_code=expense_code,
    )


def _attach_unbilled(invoice: Invoice, position: int) -> int:
    """Bill the matter's unbilled time and expenses on ``invoice``; rows are locked so two
    drafts cannot take the same entry."""
    for entry in unbilled_time_lock(matter_id=invoice.matter_id):
        line = _add_line(
            invoice,
            kind=LineKind.TIME,
            category=FeeCategory.ATTORNEY_FEE,
            description=entry.narrative,
            quantity=quantity_for_minutes(entry.minutes),
            unit_price_cents=entry.rate_cents,
            position=position,
            line_date=entry.work_date,
            timekeeper=entry.timekeeper,
            # never a phase code in place of a missing task: LEDES validation flags the line
            task_code=entry.task_code,
            activity_code=entry.activity_code,
        )
        # The line's amount is the entry's amount, rounded once when the time was recorded.
        if line.amount_cents != entry.amount_cents:
            InvoiceLine.objects.filter(pk=line.pk).update(amount_cents=entry.amount_cents)
        TimeEntry.objects.filter(pk=entry.pk).update(invoice_line=line)
        position += 1
    for expense in unbilled_expenses_lock(matter_id=invoice.matter_id):
        advance = expense.kind == ExpenseKind.COST_ADVANCE
        line = _add_line(
            invoice,
            kind=LineKind.COST_ADVANCE if advance else LineKind.EXPENSE,
            category=FeeCategory.COST,
            description=expense.description,
            quantity=Decimal(1),
            unit_price_cents=expense.amount_cents,
            position=position,
            line_date=expense.expense_date,
            expense_code=expense.expense_code,
        )
        Expense.objects.filter(pk=expense.pk).update(invoice_line=line)
        position += 1
    return position


def invoice_draft_create(
    *,
    matter: Any,
    actor: Any,
    now: datetime,
    bill_to: str = Payer.PETITIONER,
    template: InvoiceTemplate | None = None,
    include_unbilled: bool | None = None,
    triggered_at: datetime | None = None,
    installment: tuple[int, int, int] | None = None,
    fee_path: str | None = None,
    filing_date: date | None = None,
    filing_method: str = FilingMethod.PAPER,
) -> Invoice:
    """A draft for ``matter`` addressed to ``bill_to``, from ``template`` when given (its fee
    lines, the case type's government fees in force on the filing date for the client, and
    unbilled work when the template says so). The filing date is ``filing_date``, else the
    matter's "filed" stage event, else the draft date; ``fee_path`` is how its government fees
    are paid (default: the matter's fee path, else advanced by the firm; a fee already paid
    from trust stays so). ``installment`` = (k, n, amount_cents) bills part k of an n-part plan
    instead of the template's fee lines. Raises PayerRuleViolation naming the rule when a line
    may not be billed to that payer; nothing is written then."""
    if bill_to == Payer.BENEFICIARY and getattr(matter, "beneficiary_id", None) is None:
        raise BillingError(BENEFICIARY_MISSING.format(matter=matter.number), field="bill_to")
    settings = billing_settings_get()
    today = clock.firm_date(now)
    with transaction.atomic():
        matter = matter_lock(matter_id=matter.pk)
        client = matter.client
        filing_on = filing_date or matter_filing_date(matter_id=matter.pk) or today
        if fee_path is None:
            fee_path = matter_fee_path_default(matter_id=matter.pk)
        invoice = Invoice.objects.create(
            client=client,
            matter=matter,
            status=InvoiceStatus.DRAFT,
            currency=firm_currency(),
            created_at=now,
            bill_to=bill_to,
            responsible_partner_id=matter.responsible_partner_id or client.responsible_partner_id,
            created_by=actor,
            template=template,
            terms=(template.terms if template and template.terms else settings.default_terms),
            notes=template.notes if template else "",
            triggered_at=triggered_at,
            filing_date=filing_on,
            filing_method=filing_method,
        )
        position = 1
        if template is not None:
            if installment is not None:
                k, n, amount = installment
                service = template.service
                _add_line(
                    invoice,
                    kind=LineKind.INSTALLMENT,
                    category=FeeCategory.ATTORNEY_FEE,
                    description=f"{template.name}: installment {k} of {n}",
                    quantity=Decimal(1),
                    unit_price_cents=amount,
                    position=position,
                    service=service,
                    line_date=today,
                    task_code=service.utbms_task_code,
                    activity_code=service.utbms_activity_code,
                )
                position += 1
            else:
                for spec in template.lines.select_related("service").order_by("position", "id"):
                    service = spec.service or template.service
                    price = (
                        spec.amount_cents
                        if spec.amount_cents is not None
                        else service.default_price_cents
                    )
                    _add_line(
                        invoice,
                        kind=spec.kind,
                        category=spec.category,
                        description=spec.description,
                        quantity=Decimal(1),
                        unit_price_cents=price,
                        position=position,
                        service=service,
                        line_date=today,
                        task_code=service.utbms_task_code,
                        activity_code=service.utbms_activity_code,
                    )
                    position += 1
                codes = list(template.government_fee_codes)
                auto = auto_fee_codes(matter, codes) if codes else []
                for code in [*codes, *auto]:
                    values = fee_line_values(
                        matter=matter,
                        code=code,
                        filing_date=filing_on,
                        draft_date=today,
                        filing_method=filing_method,
                        fee_path=auto_fee_path(code, fee_path) if code in auto else fee_path,
                    )
                    if values is None and code in auto:
                        continue  # the case type has no such fee on the filing date
                    if values is None:
                        raise BillingError(
                            GOVERNMENT_FEE_MISSING.format(
                                case_type=matter.case_type.name, code=code, day=filing_on
                            ),
                            field="template",
                        )
                    if isinstance(values, str):  # not due (exempt employer, $0 variant)
                        continue
                    fee = values.fee
                    _add_line(
                        invoice,
                        kind=LineKind.GOVERNMENT_FEE,
                        category=fee.category,
                        description=fee.name,
                        quantity=Decimal(1),
                        unit_price_cents=values.amount_cents,
                        position=position,
                        government_fee=fee,
                        line_date=today,
                        expense_code=fee.expense_code,
                        fee_code=code,
                        fee_path=values.fee_path,
                        fee_amount_cents=fee.amount_cents,
                        fee_note=values.note,
                    )
                    position += 1
        if include_unbilled is None:
            include_unbilled = bool(template and template.include_unbilled)
        if include_unbilled:
            position = _attach_unbilled(invoice, position)
        _recompute_totals(invoice)
        audit.record(
            actor=actor,
            action="billing.invoice_drafted",
            at=now,
            obj=invoice,
            after={
                "matter": matter.number,
                "bill_to": bill_to,
                "template": template.name if template else None,
                "total_cents": invoice.total_cents,
                "lines": position - 1,
            },
            actor_label=None if actor else "billing engine",
        )
    return invoice


def invoice_line_add(
    *,
    invoice: Invoice,
    description: str,
    unit_price: Any,
    actor: Any,
    now: datetime,
    quantity: Any = "1",
    kind: str = LineKind.FEE,
    category: str = FeeCategory.ATTORNEY_FEE,
    service: Service | None = None,
    task_code: str = "",
    activity_code: str = "",
    expense_code: str = "",
    fee_code: str = "",
) -> InvoiceLine:
    """Add a line to a draft. A government-fee line names its ``fee_code`` (or a service);
    without one it may only be billed to the petitioner. Payer rules of the fee code, the
    service and the case type apply (PayerRuleViolation)."""
    fee_code = fee_code.strip().upper()
    if kind not in LineKind.values:
        raise BillingError(
            LINE_KIND_INVALID.format(choices=", ".join(LineKind.values), value=kind), field="kind"
        )
    if category not in FeeCategory.values:
        raise BillingError(
            CATEGORY_INVALID.format(choices=", ".join(FeeCategory.values), value=category),
            field="category",
        )
    # UTBMS codes are members of the shipped sets (billing.utbms), or blank
    task_code = task_code_check(task_code)
    activity_code = activity_code_check(activity_code) if activity_code.strip() else ""
    expense_code = expense_code_check(expense_code) if expense_code.strip() else ""
    if not description.strip():
        raise BillingError(DESCRIPTION_REQUIRED, field="description")
    price = parse_amount(unit_price, field="unit_price", currency=invoice.currency)
    qty = parse_quantity(quantity)
    line_amount_check(line_amount_cents(quantity=qty, unit_price_cents=price, rule=firm_rounding()))
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        _refuse_unless_lines_editable(invoice, actor)
        line = _add_line(
            invoice,
            kind=kind,
            category=category,
            description=description.strip(),
            quantity=qty,
            unit_price_cents=price,
            position=_next_position(invoice),
            service=service,
            line_date=clock.firm_date(now),
            task_code=task_code or (service.utbms_task_code if service else ""),
            activity_code=activity_code or (service.utbms_activity_code if service else ""),
            expense_code=expense_code,
            fee_code=fee_code if kind == LineKind.GOVERNMENT_FEE else "",
            fee_path=FeePath.FIRM_ADVANCE if kind == LineKind.GOVERNMENT_FEE else "",
            fee_amount_cents=price if kind == LineKind.GOVERNMENT_FEE else 0,
        )
        _recompute_totals(invoice)
        audit.record(
            actor=actor,
            action="billing.invoice_line_added",
            at=now,
            obj=invoice,
            after={"description": line.description, "amount_cents": line.amount_cents},
        )
    return line


def invoice_line_update(
    *,
    line: InvoiceLine,
    actor: Any,
    now: datetime,
    description: str | None = None,
    quantity: Any = None,
    unit_price: Any = None,
) -> InvoiceLine:
    """Change a line of a draft (including a draft returned by the partner): description,
    quantity (hours for time) and unit price (rate); an argument left out (None) keeps its value.
    The amount is rounded once again and the invoice totals recomputed. Needs ``billing.edit``
    on the invoice (whoever may add lines). Refused on an invoice in review or approved (return
    it to draft first) and on an issued or void one (InvoiceImmutable). Raises BillingError
    naming the field; nothing is written then, and nothing at all when nothing changed."""
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=line.invoice_id)
        _refuse_unless_lines_editable(invoice, actor)
        line = InvoiceLine.objects.get(pk=line.pk, invoice=invoice)
        before = {
            "description": line.description,
            "quantity": str(Decimal(line.quantity).quantize(Decimal("0.01"))),
            "unit_price_cents": line.unit_price_cents,
            "amount_cents": line.amount_cents,
        }
        if description is not None:
            if not description.strip():
                raise BillingError(DESCRIPTION_REQUIRED, field="description")
            line.description = description.strip()[:300]
        if quantity is not None:
            line.quantity = parse_quantity(quantity)
        if unit_price is not None:
            line.unit_price_cents = parse_amount(
                unit_price, field="unit_price", currency=invoice.currency
            )
        line.amount_cents = line_amount_check(
            line_amount_cents(
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                rule=firm_rounding(),
            )
        )
        after = {
            "description": line.description,
            "quantity": str(Decimal(line.quantity).quantize(Decimal("0.01"))),
            "unit_price_cents": line.unit_price_cents,
            "amount_cents": line.amount_cents,
        }
        b, a = audit.diff(before, after)
        if not a and not b:
            return line
        line.save(update_fields=["description", "quantity", "unit_price_cents", "amount_cents"])
        _recompute_totals(invoice)
        audit.record(
            actor=actor,
            action="billing.invoice_line_changed",
            at=now,
            obj=invoice,
            before={"line": line.pk, **b},
            after={"line": line.pk, **a},
        )
    return line


def invoice_line_remove(*, line: InvoiceLine, actor: Any, now: datetime) -> None:
    """Remove a line from a draft; time and expenses on it become unbilled again."""
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=line.invoice_id)
        _refuse_unless_lines_editable(invoice, actor)
        line = InvoiceLine.objects.get(pk=line.pk)
        TimeEntry.objects.filter(invoice_line=line).update(invoice_line=None)
        Expense.objects.filter(invoice_line=line).update(invoice_line=None)
        audit.record(
            actor=actor,
            action="billing.invoice_line_removed",
            at=now,
            obj=invoice,
            before={"description": line.description, "amount_cents": line.amount_cents},
        )
        line.delete()
        _recompute_totals(invoice)


def invoice_transition(
    *,
    invoice: Invoice,
    to_status: str,
    actor: Any,
    now: datetime,
    comment: str = "",
    extra: dict[str, Any] | None = None,
) -> Invoice:
    """Move ``invoice`` (already locked by the caller) to ``to_status`` if the table allows it;
    writes the status and ``extra`` columns in one UPDATE and records the audit event."""
    if to_status not in TRANSITIONS[invoice.status]:
        raise InvoiceTransitionError(
            TRANSITION_REFUSED.format(
                from_status=invoice.get_status_display().lower(),
                to_status=InvoiceStatus(to_status).label.lower(),
            ),
            field="status",
        )
    from_status = invoice.status
    values: dict[str, Any] = {"status": to_status, **(extra or {})}
    Invoice.objects.filter(pk=invoice.pk).update(**values)
    for key, value in values.items():
        setattr(invoice, key, value)
    after: dict[str, Any] = {"status": to_status}
    if comment:
        after["comment"] = comment
    for key in ("number", "total_cents"):
        if key in values:
            after[key] = values[key]
    audit.record(
        actor=actor,
        action=STATUS_ACTIONS[InvoiceStatus(to_status)],
        at=now,
        obj=invoice,
        before={"status": from_status},
        after=after,
        actor_label=None if actor else "billing engine",
    )
    return invoice


def invoice_submit(*, invoice: Invoice, actor: Any, now: datetime) -> Invoice:
    """Send a draft to its responsible partner's review queue."""
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        if not invoice.lines.exists():
            raise BillingError(EMPTY_INVOICE, field="invoice")
        return invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.IN_REVIEW,
            actor=actor,
            now=now,
            extra={"review_comment": ""},
        )


def _refuse_unless_ledes_valid(invoice: Invoice, now: datetime) -> None:
    """A client billed in LEDES gets only invoices whose LEDES file validates (the review page
    lists the problems, billing.exports.invoice_ledes_problems)."""
    from caseledger.billing.exports import invoice_ledes_problems

    problems = invoice_ledes_problems(invoice=invoice, today=clock.firm_date(now))
    if problems:
        raise LedesInvalid(
            LEDES_BLOCKS_APPROVAL.format(
                invoice=invoice,
                count=len(problems),
                s="" if len(problems) == 1 else "s",
                first=problems[0].removeprefix("ledes: "),
            ),
            field="ledes",
        )


def invoice_approve(*, invoice: Invoice, actor: Any, now: datetime) -> Invoice:
    """Approve a draft in review. Needs ``billing.approve``; refused for one's own draft when
    the firm forbids it, and, for a client billed in LEDES, while its LEDES file does not
    validate (LedesInvalid naming the first problem)."""
    require(actor, "billing.approve", invoice)
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        settings = billing_settings_get()
        if settings.forbid_self_approval and invoice.created_by_id == actor.pk:
            raise BillingError(SELF_APPROVAL.format(invoice=invoice), field="approve")
        if invoice.total_cents < 0:
            raise BillingError(
                NEGATIVE_TOTAL.format(total=Money(invoice.total_cents, invoice.currency).format()),
                field="invoice",
            )
        _refuse_unless_ledes_valid(invoice, now)
        return invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.APPROVED,
            actor=actor,
            now=now,
            extra={"approved_at": now, "approved_by": actor},
        )


def invoice_return(*, invoice: Invoice, actor: Any, now: datetime, comment: str) -> Invoice:
    """Send a draft back to billing with the partner's comment."""
    require(actor, "billing.approve", invoice)
    if not comment.strip():
        raise BillingError(RETURN_COMMENT_REQUIRED, field="comment")
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        return invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.DRAFT,
            actor=actor,
            now=now,
            comment=comment.strip(),
            extra={"review_comment": comment.strip(), "approved_at": None, "approved_by": None},
        )


def invoice_bulk_approve(
    *, invoice_ids: list[int], actor: Any, now: datetime
) -> tuple[list[Invoice], dict[int, str]]:
    """Approve each invoice on its own (one refusal does not undo the others); returns the
    approved invoices and the refusal message per invoice id."""
    approved: list[Invoice] = []
    refused: dict[int, str] = {}
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).order_by("id"):
        try:
            approved.append(invoice_approve(invoice=invoice, actor=actor, now=now))
        except BillingError as exc:
            refused[invoice.pk] = exc.message
        except Exception as exc:
            from caseledger.core.exceptions import ApplicationError

            if isinstance(exc, ApplicationError):
                refused[invoice.pk] = exc.message
            else:
                raise
    return approved, refused


def invoice_discard(*, invoice: Invoice, actor: Any, now: datetime, reason: str) -> Invoice:
    """Void a draft that will never be issued (it keeps no number); its work becomes unbilled."""
    if not reason.strip():
        raise BillingError(VOID_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice.pk)
        if invoice.status in {InvoiceStatus.DRAFT, InvoiceStatus.IN_REVIEW}:
            TimeEntry.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
            Expense.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        return invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.VOID,
            actor=actor,
            now=now,
            comment=reason.strip(),
            extra={"voided_at": now, "void_reason": reason.strip()},
        )


def _format_number(year: int, seq: int) -> str:
    firm = firm_get()
    return firm.invoice_number_format.format(
        year=year, seq=str(seq).zfill(firm.invoice_number_width)
    )


SALES_TAX_PAYABLE = "2300"  # added to the chart by billing migration 0004


def _issue_posting_lines(invoice: Invoice) -> list[Any]:
    """Dr A/R for the total; Cr fee revenue once per service (legal fees, time, expenses
    recovered); Cr client cost advances for government fees and cost advances; Cr sales tax
    payable for tax. The lines sum to zero because the total is the sum of lines plus tax."""
    from caseledger.ledger import accounts
    from caseledger.ledger.services import PostingLine

    revenue_by_service: dict[int, int] = defaultdict(int)
    advances = 0
    for line in invoice.lines.all():
        if line.kind in PASS_THROUGH_KINDS:
            advances += line.amount_cents
        else:
            revenue_by_service[line.service_id or 0] += line.amount_cents
    ctx = {"client": invoice.client, "matter": invoice.matter, "invoice": invoice}
    postings = [PostingLine(accounts.ACCOUNTS_RECEIVABLE, invoice.total_cents, **ctx)]
    for _service_id, cents in sorted(revenue_by_service.items()):
        if cents:
            postings.append(PostingLine(accounts.FEE_REVENUE, -cents, **ctx))
    if advances:
        postings.append(PostingLine(accounts.CLIENT_COST_ADVANCES, -advances, **ctx))
    if invoice.tax_cents:
        postings.append(PostingLine(SALES_TAX_PAYABLE, -invoice.tax_cents, **ctx))
    return postings


def invoice_issue(*, invoice: Invoice, actor: Any, now: datetime) -> Invoice:
    """Issue an approved invoice: gapless number from the year's locked counter, frozen
    addressee and totals, journal entry (kind INVOICE_ISSUED), stored PDF and a queued email —
    one transaction; after commit the email is sent. Raises InvalidTransition unless approved,
    PayerRuleViolation if a line now breaks a payer rule."""
    from caseledger.billing.services.emails import invoice_email_queue
    from caseledger.billing.services.payment_links import payment_link_for
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import entry_post

    require(actor, "billing.issue", invoice)
    with transaction.atomic():
        # The matter first (global order): a trust disbursement paying one of its government
        # fees cannot pass its check while this issue bills the same fee (ADR 011).
        matter_lock(matter_id=invoice.matter_id)
        hooks.invoice_issue_locks(invoice)  # locks the global order puts before the invoice
        invoice = invoice_lock(invoice_id=invoice.pk)
        if InvoiceStatus.ISSUED not in TRANSITIONS[invoice.status]:
            raise InvoiceTransitionError(
                TRANSITION_REFUSED.format(
                    from_status=invoice.get_status_display().lower(), to_status="issued"
                ),
                field="status",
            )
        lines = list(invoice.lines.all())
        if not lines:
            raise BillingError(EMPTY_INVOICE, field="invoice")
        for line in lines:
            payer_check(
                matter=invoice.matter,
                bill_to=invoice.bill_to,
                category=line.category,
                description=line.description,
                fee_code=line.fee_code,
                service_id=line.service_id,
                kind=line.kind,
            )
        advances = issue_fee_advances(invoice, lines)
        issue_date = clock.firm_date(now)
        terms_days = (
            invoice.template.payment_terms_days
            if invoice.template and invoice.template.payment_terms_days is not None
            else getattr(invoice.client, "payment_terms_days", 30)
        )
        due_date = issue_date + timedelta(days=terms_days)
        # The due date is stored with the totals, BEFORE the A/R posting: the ledger's posting
        # listeners (collections' aging facts) read it from the invoice row.
        _recompute_totals(invoice, due_date=due_date)
        if invoice.total_cents < 0:
            raise BillingError(
                NEGATIVE_TOTAL.format(total=Money(invoice.total_cents, invoice.currency).format()),
                field="invoice",
            )
        seq = counter_next(InvoiceCounter, year=issue_date.year)
        number = _format_number(issue_date.year, seq)
        name, address, email = invoice_addressee(invoice=invoice)
        invoice.number = number  # for the ledger memo and postings
        entry = entry_post(
            kind=EntryKind.INVOICE_ISSUED,
            entry_date=issue_date,
            memo=f"Invoice {number} · {invoice.matter.number}",
            lines=_issue_posting_lines(invoice),
            actor=actor,
            now=now,
            idempotency_key=f"billing.invoice_issue:{invoice.pk}",
        )
        invoice.number = None
        invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.ISSUED,
            actor=actor,
            now=now,
            extra={
                "number": number,
                "issue_date": issue_date,
                "due_date": due_date,
                "bill_to_name": name,
                "bill_to_address": address,
                "bill_to_email": email,
                "issued_at": now,
                "issued_by": actor,
                "issue_entry": entry,
            },
        )
        # The apps above billing, inside this transaction (payments: the settlement row;
        # trust: auto-apply of cleared trust for clients who chose it).
        for advance, line in advances:
            FeeAdvance.objects.filter(pk=advance.pk).update(invoice_line=line)
        hooks.invoice_issued(invoice)
        link = payment_link_for(invoice=invoice)
        pdf_bytes = _render_pdf(invoice, link)
        InvoicePdf.objects.create(
            invoice=invoice,
            content=pdf_bytes,
            sha256=hashlib.sha256(pdf_bytes).hexdigest(),
            created_at=now,
        )
        if email:
            with client_language(invoice.client):
                subject = gettext("Invoice %(number)s from %(firm)s") % {
                    "number": number,
                    "firm": firm_get().name,
                }
                body = _email_body(invoice, link)
            invoice_email_queue(
                invoice=invoice, to_email=email, subject=subject, body=body, now=now
            )
    return invoice


def _render_pdf(invoice: Invoice, link: str) -> bytes:
    return invoice_pdf_bytes(invoice=invoice, payment_link=link)


def _email_body(invoice: Invoice, link: str) -> str:
    """The invoice email's text in the active language (the caller sets the client's)."""
    firm = firm_get()
    values = {
        "name": invoice.bill_to_name,
        "number": invoice.number,
        "total": Money(invoice.total_cents, invoice.currency).format(),
        "matter": invoice.matter.number,
        "title": invoice.matter.title,
        "due": long_date(invoice.due_date) if invoice.due_date else "",
        "link": link,
        "phone": firm.phone,
        "firm": firm.name,
    }
    return (
        gettext(
            "Dear %(name)s,\n\n"
            "Please find attached invoice %(number)s for %(total)s for matter "
            "%(matter)s (%(title)s), due on %(due)s.\n\n"
            "You can view and pay it online:\n%(link)s\n\n"
            "Questions? Reply to this email or call %(phone)s.\n\n"
            "%(firm)s\n"
        )
        % values
    )


def invoice_void(*, invoice: Invoice, actor: Any, now: datetime, reason: str) -> Invoice:
    """Void an issued invoice before any payment: it keeps its number, its issue entry is
    reversed, and its time and expenses become unbilled again."""
    from caseledger.ledger.services import entry_reverse

    require(actor, "billing.void", invoice)
    if not reason.strip():
        raise BillingError(VOID_REASON_REQUIRED, field="reason")
    if invoice.status != InvoiceStatus.ISSUED:
        return invoice_discard(invoice=invoice, actor=actor, now=now, reason=reason)
    with transaction.atomic():
        matter_lock(matter_id=invoice.matter_id)
        invoice = invoice_lock(invoice_id=invoice.pk)
        if invoice.status != InvoiceStatus.ISSUED:
            return invoice_transition(
                invoice=invoice, to_status=InvoiceStatus.VOID, actor=actor, now=now
            )
        if invoice_has_ar_movement(invoice):
            raise BillingError(VOID_AFTER_PAYMENT.format(invoice=invoice), field="void")
        issue_entry = invoice.issue_entry
        assert issue_entry is not None  # every issued invoice has its entry
        reversal = entry_reverse(
            entry=issue_entry,
            actor=actor,
            now=now,
            entry_date=clock.firm_date(now),
            memo=f"Void of invoice {invoice.number}: {reason.strip()}",
        )
        TimeEntry.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        Expense.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        # The reversal debits 1300 again: the advances it billed wait to be billed again.
        FeeAdvance.objects.filter(invoice_line__invoice=invoice).update(invoice_line=None)
        return invoice_transition(
            invoice=invoice,
            to_status=InvoiceStatus.VOID,
            actor=actor,
            now=now,
            comment=reason.strip(),
            extra={"voided_at": now, "void_reason": reason.strip(), "void_entry": reversal},
        )


PURGED_BILL_TO = "Purged client {pseudonym}"


@transaction.atomic
def invoices_redact_bill_to(
    *, matter: Any, pseudonym: str, actor: Any, now: datetime
) -> dict[str, int]:
    """The retention purge's redaction of ``matter``'s invoices: the bill-to snapshot becomes
    ``Purged client <pseudonym>`` with no address and no email (the one change the database
    lets through on an issued invoice), and the stored PDFs of issued ones are deleted (the
    invoice's PDF is then rendered from the redacted invoice: number, dates, lines and amounts
    as issued). Returns the counts; no audit event of its own (the purge records one)."""
    name = PURGED_BILL_TO.format(pseudonym=pseudonym)
    invoices = Invoice.objects.filter(matter=matter)
    redacted = invoices.exclude(bill_to_name=name, bill_to_address="", bill_to_email="").update(
        bill_to_name=name, bill_to_address="", bill_to_email=""
    )
    pdfs, _ = InvoicePdf.objects.filter(invoice__in=invoices).delete()
    return {"billing.invoice.bill_to": redacted, "billing.invoicepdf": pdfs}
