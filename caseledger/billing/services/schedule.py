"""Fee schedule, rates, payer rules, templates, triggers and billing settings."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction

from caseledger.billing import utbms
from caseledger.billing.choices import (
    Cadence,
    FeeCategory,
    FeeType,
    LineKind,
    Payer,
    TaxMode,
    TimeRounding,
    TriggerKind,
)
from caseledger.billing.exceptions import BillingError
from caseledger.billing.locks import billing_run_lock, template_lock
from caseledger.billing.models import (
    BillingSettings,
    BillingTrigger,
    GovernmentFee,
    HourlyRate,
    InvoiceTemplate,
    PayerRule,
    RecurringSchedule,
    Service,
    TemplateLine,
)
from caseledger.billing.services.common import firm_currency, parse_amount
from caseledger.core import audit, clock
from caseledger.core.permissions import require

CODE_INVALID = "code: use capital letters, digits, '-' or '_' (got {value!r})"
CODE_TAKEN = "code: a service with code {value} already exists"
NAME_REQUIRED = "name: is required"
UTBMS_TASK_INVALID = (
    "utbms_task_code: must be a UTBMS task code such as L120, not a phase (got {value!r})"
)
UTBMS_ACTIVITY_INVALID = (
    "utbms_activity_code: must be a UTBMS activity code such as A103 (got {value!r})"
)
EXTENSION_CITATION_REQUIRED = (
    "citation: {code} lapsed on its stated expiry {expiry}; a row from that date is an extension "
    "and must cite the instrument that extends it"
)
EXPIRY_NOT_AFTER = "expires_on: must be after the effective date {day} (got {value})"
EXPENSE_CODE_INVALID = "expense_code: must be a UTBMS expense code such as E112 (got {value!r})"
FEE_TYPE_INVALID = "fee_type: must be one of {choices} (got {value!r})"
STAGE_NOT_IN_CASE_TYPE = "stage: {stage} is not a stage of case type {case_type}"
TRIGGER_STAGE_REQUIRED = "stage: a stage trigger needs a stage"
TRIGGER_CADENCE_REQUIRED = "cadence: a cadence trigger needs one of {choices}"
TRIGGER_DUPLICATE = (
    "stage: case type {case_type} already has an active trigger for {stage} → {template}"
)
TEMPLATE_LINE_BREAKS_RULE = (
    "bill_to: template {template} bills {category} to the beneficiary, which case type "
    "{case_type} forbids ({citation})"
)
RATE_SCOPE = "client: a rate applies to a client or to a matter, not both"
INCREMENT_INVALID = (
    "time_increment_minutes: must divide 60 (1, 2, 3, 5, 6, 10, 15, 20, 30, 60) (got {value})"
)
TAX_RATE_INVALID = "tax_rate_bp: must be between 0 and 10000 basis points (got {value})"
INSTALLMENTS_INVALID = "installments: must be between 1 and 60 (got {value})"
TEMPLATE_NAME_TAKEN = "name: a template named {value!r} already exists"
BILL_TO_INVALID = "bill_to: must be one of {choices} (got {value!r})"
PAYMENT_TERMS_INVALID = "payment_terms_days: must be between 0 and 365 days (got {value})"
GOVERNMENT_FEE_CODE_INVALID = (
    "government_fee_codes: {value!r} is not a fee code (capital letters, digits, '-' or '_')"
)
TEMPLATE_LINE_DESCRIPTION_REQUIRED = "line {n} description: is required"
TEMPLATE_LINE_KIND_INVALID = "line {n} kind: must be one of {choices} (got {value!r})"
TEMPLATE_LINE_CATEGORY_INVALID = "line {n} category: must be one of {choices} (got {value!r})"
TEMPLATE_IN_USE = (
    "active: template {template} still drafts the invoices of {uses}; remove or end "
    "{them} first, then deactivate the template"
)
TEMPLATE_INACTIVE = "template: {template} is inactive; reactivate it before adding a trigger"

_CODE = re.compile(r"^[A-Z0-9_-]{2,32}$")


def _check_codes(*, task: str, activity: str) -> None:
    """Members of the shipped UTBMS sets (billing.utbms), not look-alikes; a phase is no task."""
    if task and not utbms.is_task(task):
        raise BillingError(UTBMS_TASK_INVALID.format(value=task), field="utbms_task_code")
    if activity and not utbms.is_activity(activity):
        raise BillingError(
            UTBMS_ACTIVITY_INVALID.format(value=activity), field="utbms_activity_code"
        )


def service_create(
    *,
    code: str,
    name: str,
    fee_type: str,
    default_price: Any,
    utbms_task_code: str = "",
    utbms_activity_code: str = "",
    actor: Any,
    now: datetime,
) -> Service:
    code = code.strip().upper()
    if not _CODE.match(code):
        raise BillingError(CODE_INVALID.format(value=code), field="code")
    if not name.strip():
        raise BillingError(NAME_REQUIRED, field="name")
    if fee_type not in FeeType.values:
        raise BillingError(
            FEE_TYPE_INVALID.format(choices=", ".join(FeeType.values), value=fee_type),
            field="fee_type",
        )
    _check_codes(task=utbms_task_code, activity=utbms_activity_code)
    price = parse_amount(default_price, field="default_price", currency=firm_currency())
    with transaction.atomic():
        if Service.objects.filter(code=code).exists():
            raise BillingError(CODE_TAKEN.format(value=code), field="code")
        service = Service.objects.create(
            code=code,
            name=name.strip(),
            fee_type=fee_type,
            default_price_cents=price,
            utbms_task_code=utbms_task_code,
            utbms_activity_code=utbms_activity_code,
        )
        audit.record(
            actor=actor,
            action="billing.service_created",
            at=now,
            obj=service,
            after={"code": code, "fee_type": fee_type, "default_price_cents": price},
        )
    return service


def service_price_set(
    *, service: Service, default_price: Any, actor: Any, now: datetime
) -> Service:
    price = parse_amount(default_price, field="default_price", currency=firm_currency())
    with transaction.atomic():
        before = service.default_price_cents
        Service.objects.filter(pk=service.pk).update(default_price_cents=price)
        service.default_price_cents = price
        audit.record(
            actor=actor,
            action="billing.service_price_set",
            at=now,
            obj=service,
            before={"default_price_cents": before},
            after={"default_price_cents": price},
        )
    return service


def hourly_rate_set(
    *,
    timekeeper: Any,
    rate: Any,
    client: Any = None,
    matter: Any = None,
    actor: Any,
    now: datetime,
) -> HourlyRate:
    """Set the timekeeper's default rate, or a client or matter override."""
    if client is not None and matter is not None:
        raise BillingError(RATE_SCOPE, field="client")
    cents = parse_amount(rate, field="rate", currency=firm_currency(), allow_zero=False)
    with transaction.atomic():
        existing = HourlyRate.objects.filter(
            timekeeper=timekeeper, client=client, matter=matter
        ).first()
        before = {"rate_cents": existing.rate_cents} if existing else None
        if existing:
            existing.rate_cents = cents
            existing.save(update_fields=["rate_cents"])
            rate_row = existing
        else:
            rate_row = HourlyRate.objects.create(
                timekeeper=timekeeper, client=client, matter=matter, rate_cents=cents
            )
        audit.record(
            actor=actor,
            action="billing.rate_set",
            at=now,
            obj=rate_row,
            before=before,
            after={
                "timekeeper": timekeeper.pk,
                "client": getattr(client, "pk", None),
                "matter": getattr(matter, "pk", None),
                "rate_cents": cents,
            },
        )
    return rate_row


def government_fee_add(
    *,
    case_type: Any,
    code: str,
    name: str,
    amount: Any,
    effective_date: date,
    category: str = FeeCategory.REQUIRED_GOVERNMENT_FEE,
    expense_code: str = utbms.FILING_FEE_EXPENSE_CODE,
    citation: str = "",
    expires_on: date | None = None,
    expiry_citation: str = "",
    actor: Any,
    now: datetime,
) -> GovernmentFee:
    """A government fee amount from ``effective_date``; earlier rows stay for earlier dates.
    A row on or after the stated expiry of an earlier row of the same fee (``expires_on``,
    e.g. Proclamation 10973) records an extension: it must cite the extending instrument, and
    may carry its own stated expiry."""
    code = code.strip().upper()
    citation = citation.strip()
    if expires_on is not None and expires_on <= effective_date:
        raise BillingError(
            EXPIRY_NOT_AFTER.format(day=effective_date, value=expires_on), field="expires_on"
        )
    if not _CODE.match(code):
        raise BillingError(CODE_INVALID.format(value=code), field="code")
    if not utbms.is_expense(expense_code):
        raise BillingError(EXPENSE_CODE_INVALID.format(value=expense_code), field="expense_code")
    clock.date_check(effective_date, field="effective_date")
    cents = parse_amount(amount, field="amount", currency=firm_currency())
    with transaction.atomic():
        lapsed = (
            GovernmentFee.objects.filter(
                case_type=case_type,
                code=code,
                effective_date__lt=effective_date,
                expires_on__lte=effective_date,
            )
            .order_by("-effective_date", "id")
            .first()
        )
        if lapsed is not None and not citation:
            raise BillingError(
                EXTENSION_CITATION_REQUIRED.format(code=code, expiry=lapsed.expires_on),
                field="citation",
            )
        fee, created = GovernmentFee.objects.update_or_create(
            case_type=case_type,
            code=code,
            effective_date=effective_date,
            defaults={
                "name": name.strip() or code,
                "amount_cents": cents,
                "category": category,
                "expense_code": expense_code,
                # a row re-saved without them keeps its source and its stated expiry
                **({"citation": citation[:600]} if citation else {}),
                **(
                    {"expires_on": expires_on, "expiry_citation": expiry_citation.strip()[:600]}
                    if expires_on is not None
                    else {}
                ),
            },
        )
        audit.record(
            actor=actor,
            action="billing.government_fee_set",
            at=now,
            obj=fee,
            after={
                "case_type": case_type.pk,
                "code": code,
                "amount_cents": cents,
                "effective_date": effective_date,
                "citation": citation,
                "expires_on": expires_on,
                "extends": lapsed.pk if lapsed is not None else None,
                "created": created,
            },
        )
    return fee


def payer_rule_set(
    *,
    case_type: Any,
    category: str,
    beneficiary_may_pay: bool,
    citation: str,
    actor: Any,
    now: datetime,
) -> PayerRule:
    with transaction.atomic():
        rule, _ = PayerRule.objects.update_or_create(
            case_type=case_type,
            category=category,
            defaults={"beneficiary_may_pay": beneficiary_may_pay, "citation": citation},
        )
        audit.record(
            actor=actor,
            action="billing.payer_rule_set",
            at=now,
            obj=rule,
            after={
                "case_type": case_type.pk,
                "category": category,
                "beneficiary_may_pay": beneficiary_may_pay,
                "citation": citation,
            },
        )
    return rule


def _template_clean(
    *,
    service: Service,
    name: str,
    lines: list[dict[str, Any]],
    bill_to: str,
    government_fee_codes: list[str],
    include_unbilled: bool,
    installments: int,
    terms: str,
    notes: str,
    payment_terms_days: int | None,
    exclude_pk: int | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one validation of a template's content, for ``template_create`` and
    ``template_update``: (template columns, line columns), or BillingError naming the field.
    Line errors name the line (1-based) and carry ``field="lines.<index>.<name>"``."""
    name = name.strip()
    if not name:
        raise BillingError(NAME_REQUIRED, field="name")
    taken = InvoiceTemplate.objects.filter(name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise BillingError(TEMPLATE_NAME_TAKEN.format(value=name), field="name")
    if bill_to not in Payer.values:
        raise BillingError(
            BILL_TO_INVALID.format(choices=", ".join(Payer.values), value=bill_to), field="bill_to"
        )
    if not 1 <= installments <= 60:
        raise BillingError(INSTALLMENTS_INVALID.format(value=installments), field="installments")
    if payment_terms_days is not None and not 0 <= payment_terms_days <= 365:
        raise BillingError(
            PAYMENT_TERMS_INVALID.format(value=payment_terms_days), field="payment_terms_days"
        )
    codes = [c.strip().upper() for c in government_fee_codes if c.strip()]
    for code in codes:
        if not _CODE.match(code):
            raise BillingError(
                GOVERNMENT_FEE_CODE_INVALID.format(value=code), field="government_fee_codes"
            )
    currency = firm_currency()
    rows: list[dict[str, Any]] = []
    for index, spec in enumerate(lines):
        n = index + 1
        description = str(spec.get("description") or "").strip()
        if not description:
            raise BillingError(
                TEMPLATE_LINE_DESCRIPTION_REQUIRED.format(n=n), field=f"lines.{index}.description"
            )
        kind = spec.get("kind") or LineKind.FEE
        if kind not in LineKind.values:
            raise BillingError(
                TEMPLATE_LINE_KIND_INVALID.format(
                    n=n, choices=", ".join(LineKind.values), value=kind
                ),
                field=f"lines.{index}.kind",
            )
        category = spec.get("category") or FeeCategory.ATTORNEY_FEE
        if category not in FeeCategory.values:
            raise BillingError(
                TEMPLATE_LINE_CATEGORY_INVALID.format(
                    n=n, choices=", ".join(FeeCategory.values), value=category
                ),
                field=f"lines.{index}.category",
            )
        amount = spec.get("amount")
        cents = None
        if amount is not None and str(amount).strip() != "":
            try:
                cents = parse_amount(amount, field=f"line {n} amount", currency=currency)
            except BillingError as exc:
                raise BillingError(exc.message, field=f"lines.{index}.amount") from exc
        rows.append(
            {
                "position": n,
                "kind": kind,
                "category": category,
                "service": spec.get("service") or service,
                "description": description[:300],
                "amount_cents": cents,
            }
        )
    columns = {
        "service": service,
        "name": name,
        "bill_to": bill_to,
        "include_unbilled": include_unbilled,
        "government_fee_codes": codes,
        "installments": installments,
        "terms": terms,
        "notes": notes,
        "payment_terms_days": payment_terms_days,
    }
    return columns, rows


def template_create(
    *,
    service: Service,
    name: str,
    lines: list[dict[str, Any]],
    bill_to: str = Payer.PETITIONER,
    government_fee_codes: list[str] | None = None,
    include_unbilled: bool = False,
    installments: int = 1,
    terms: str = "",
    notes: str = "",
    payment_terms_days: int | None = None,
    actor: Any,
    now: datetime,
) -> InvoiceTemplate:
    """A template; ``lines`` are dicts with description, kind, category, amount (None or "" =
    the service's price) and service. Raises BillingError naming the field (``_template_clean``);
    nothing is written then."""
    with transaction.atomic():
        columns, rows = _template_clean(
            service=service,
            name=name,
            lines=lines,
            bill_to=bill_to,
            government_fee_codes=government_fee_codes or [],
            include_unbilled=include_unbilled,
            installments=installments,
            terms=terms,
            notes=notes,
            payment_terms_days=payment_terms_days,
        )
        template = InvoiceTemplate.objects.create(**columns)
        TemplateLine.objects.bulk_create(TemplateLine(template=template, **row) for row in rows)
        audit.record(
            actor=actor,
            action="billing.template_created",
            at=now,
            obj=template,
            after={"name": template.name, "service": service.code, "lines": len(rows)},
        )
    return template


def _template_snapshot(
    columns: dict[str, Any], rows: list[dict[str, Any]], *, active: bool
) -> dict[str, Any]:
    """A template's content as its audit events show it (services by code)."""
    snapshot = {key: value for key, value in columns.items() if key != "service"}
    snapshot["service"] = columns["service"].code
    snapshot["active"] = active
    snapshot["lines"] = [
        {
            "description": row["description"],
            "kind": row["kind"],
            "category": row["category"],
            "service": row["service"].code if row["service"] else None,
            "amount_cents": row["amount_cents"],
        }
        for row in rows
    ]
    return snapshot


def _template_uses(template: InvoiceTemplate) -> list[str]:
    """The active triggers and recurring schedules that draft from ``template``, for people."""
    uses = [
        f"trigger “{trigger.case_type.name} · "
        f"{trigger.stage.name if trigger.stage else trigger.get_cadence_display()}”"
        for trigger in BillingTrigger.objects.filter(template=template, active=True)
        .select_related("case_type", "stage")
        .order_by("id")
    ]
    uses += [
        f"the {schedule.get_cadence_display().lower()} schedule of matter {schedule.matter.number}"
        for schedule in RecurringSchedule.objects.filter(template=template, active=True)
        .select_related("matter")
        .order_by("id")
    ]
    return uses


def template_update(
    *,
    template: InvoiceTemplate,
    actor: Any,
    now: datetime,
    service: Service | None = None,
    name: str | None = None,
    lines: list[dict[str, Any]] | None = None,
    bill_to: str | None = None,
    government_fee_codes: list[str] | None = None,
    include_unbilled: bool | None = None,
    installments: int | None = None,
    terms: str | None = None,
    notes: str | None = None,
    payment_terms_days: int | None | Literal["keep"] = "keep",
    active: bool | None = None,
) -> InvoiceTemplate:
    """Change a template; an argument left out (None; "keep" for ``payment_terms_days``, where
    None means the client's terms) keeps its value, ``lines`` replaces every line. The same
    validation as ``template_create``. Also refuses to deactivate a template that an active
    trigger or recurring schedule drafts from (naming them), and a payer change that an active
    trigger's case type forbids. Invoices already drafted keep their own lines. One audit event
    with the changed fields only; nothing is written when nothing changed."""
    require(actor, "billing.configure")
    with transaction.atomic():
        template = template_lock(template_id=template.pk)
        stored = list(template.lines.select_related("service").order_by("position", "id"))
        before = _template_snapshot(
            {
                "service": template.service,
                "name": template.name,
                "bill_to": template.bill_to,
                "include_unbilled": template.include_unbilled,
                "government_fee_codes": list(template.government_fee_codes),
                "installments": template.installments,
                "terms": template.terms,
                "notes": template.notes,
                "payment_terms_days": template.payment_terms_days,
            },
            [
                {
                    "description": line.description,
                    "kind": line.kind,
                    "category": line.category,
                    "service": line.service,
                    "amount_cents": line.amount_cents,
                }
                for line in stored
            ],
            active=template.active,
        )
        current_lines = [
            {
                "description": line.description,
                "kind": line.kind,
                "category": line.category,
                "service": line.service,
                "amount": line.amount_cents,
            }
            for line in stored
        ]
        columns, rows = _template_clean(
            service=service if service is not None else template.service,
            name=name if name is not None else template.name,
            lines=lines if lines is not None else current_lines,
            bill_to=bill_to if bill_to is not None else template.bill_to,
            government_fee_codes=government_fee_codes
            if government_fee_codes is not None
            else list(template.government_fee_codes),
            include_unbilled=include_unbilled
            if include_unbilled is not None
            else template.include_unbilled,
            installments=installments if installments is not None else template.installments,
            terms=terms if terms is not None else template.terms,
            notes=notes if notes is not None else template.notes,
            payment_terms_days=template.payment_terms_days
            if payment_terms_days == "keep"
            else payment_terms_days,
            exclude_pk=template.pk,
        )
        is_active = active if active is not None else template.active
        if template.active and not is_active:
            uses = _template_uses(template)
            if uses:
                raise BillingError(
                    TEMPLATE_IN_USE.format(
                        template=template.name,
                        uses="; ".join(uses),
                        them="them" if len(uses) > 1 else "it",
                    ),
                    field="active",
                )
        if is_active:
            triggers = BillingTrigger.objects.filter(template=template, active=True)
            for case_type in {t.case_type for t in triggers.select_related("case_type")}:
                _payer_rules_check(
                    template_name=columns["name"],
                    bill_to=columns["bill_to"],
                    categories=[row["category"] for row in rows],
                    government_fee_codes=columns["government_fee_codes"],
                    case_type=case_type,
                )
        b, a = audit.diff(before, _template_snapshot(columns, rows, active=is_active))
        if not a and not b:
            return template
        for key, value in columns.items():
            setattr(template, key, value)
        template.active = is_active
        template.save()
        if "lines" in a:
            template.lines.all().delete()
            TemplateLine.objects.bulk_create(TemplateLine(template=template, **row) for row in rows)
        audit.record(
            actor=actor, action="billing.template_updated", at=now, obj=template, before=b, after=a
        )
    return template


def _payer_rules_check(
    *,
    template_name: str,
    bill_to: str,
    categories: list[str],
    government_fee_codes: list[str],
    case_type: Any,
) -> None:
    """Raise BillingError (field bill_to) when a template billing the beneficiary has a line or a
    government fee whose category ``case_type``'s payer rules forbid to the beneficiary."""
    if bill_to != Payer.BENEFICIARY:
        return
    categories = list(categories)
    for code in government_fee_codes:
        fee = (
            GovernmentFee.objects.filter(case_type=case_type, code=code)
            .order_by("-effective_date", "id")
            .first()
        )
        if fee:
            categories.append(fee.category)
    for category in categories:
        rule = PayerRule.objects.filter(case_type=case_type, category=category).first()
        if rule and not rule.beneficiary_may_pay:
            raise BillingError(
                TEMPLATE_LINE_BREAKS_RULE.format(
                    template=template_name,
                    category=FeeCategory(category).label.lower(),
                    case_type=case_type.name,
                    citation=rule.citation,
                ),
                field="bill_to",
            )


def trigger_create(
    *,
    case_type: Any,
    template: InvoiceTemplate,
    kind: str,
    stage: Any = None,
    cadence: str = "",
    actor: Any,
    now: datetime,
) -> BillingTrigger:
    """Map a case type's stage (or a cadence) to a template. Refuses a stage of another case
    type, and a template whose payer breaks the case type's payer rules."""
    if kind == TriggerKind.STAGE:
        if stage is None:
            raise BillingError(TRIGGER_STAGE_REQUIRED, field="stage")
        if stage.case_type_id != case_type.pk:
            raise BillingError(
                STAGE_NOT_IN_CASE_TYPE.format(stage=stage.name, case_type=case_type.name),
                field="stage",
            )
        cadence = ""
    else:
        if cadence not in Cadence.values:
            raise BillingError(
                TRIGGER_CADENCE_REQUIRED.format(choices=", ".join(Cadence.values)),
                field="cadence",
            )
        stage = None
    with transaction.atomic():
        template = template_lock(template_id=template.pk)
        if not template.active:
            raise BillingError(TEMPLATE_INACTIVE.format(template=template.name), field="template")
        _payer_rules_check(
            template_name=template.name,
            bill_to=template.bill_to,
            categories=list(template.lines.values_list("category", flat=True)),
            government_fee_codes=template.government_fee_codes,
            case_type=case_type,
        )
        if stage is not None:
            duplicate = BillingTrigger.objects.filter(
                case_type=case_type, stage=stage, template=template, active=True
            ).exists()
            if duplicate:
                raise BillingError(
                    TRIGGER_DUPLICATE.format(
                        case_type=case_type.name, stage=stage.name, template=template.name
                    ),
                    field="stage",
                )
        trigger = BillingTrigger.objects.create(
            case_type=case_type, kind=kind, stage=stage, cadence=cadence, template=template
        )
        audit.record(
            actor=actor,
            action="billing.trigger_created",
            at=now,
            obj=trigger,
            after={
                "case_type": case_type.code,
                "kind": kind,
                "stage": getattr(stage, "code", None),
                "cadence": cadence,
                "template": template.name,
            },
        )
    return trigger


def trigger_deactivate(*, trigger: BillingTrigger, actor: Any, now: datetime) -> BillingTrigger:
    with transaction.atomic():
        BillingTrigger.objects.filter(pk=trigger.pk).update(active=False)
        trigger.active = False
        audit.record(
            actor=actor,
            action="billing.trigger_deactivated",
            at=now,
            obj=trigger,
            before={"active": True},
            after={"active": False},
        )
    return trigger


def billing_settings_update(
    *,
    actor: Any,
    now: datetime,
    time_increment_minutes: int | None = None,
    time_rounding: str | None = None,
    tax_mode: str | None = None,
    tax_rate_bp: int | None = None,
    forbid_self_approval: bool | None = None,
    default_terms: str | None = None,
) -> BillingSettings:
    changes: dict[str, Any] = {}
    if time_increment_minutes is not None:
        if time_increment_minutes <= 0 or 60 % time_increment_minutes:
            raise BillingError(
                INCREMENT_INVALID.format(value=time_increment_minutes),
                field="time_increment_minutes",
            )
        changes["time_increment_minutes"] = time_increment_minutes
    if time_rounding is not None:
        changes["time_rounding"] = TimeRounding(time_rounding).value
    if tax_mode is not None:
        changes["tax_mode"] = TaxMode(tax_mode).value
    if tax_rate_bp is not None:
        if not 0 <= tax_rate_bp <= 10_000:
            raise BillingError(TAX_RATE_INVALID.format(value=tax_rate_bp), field="tax_rate_bp")
        changes["tax_rate_bp"] = tax_rate_bp
    if forbid_self_approval is not None:
        changes["forbid_self_approval"] = forbid_self_approval
    if default_terms is not None:
        changes["default_terms"] = default_terms
    with transaction.atomic():
        settings = billing_run_lock()
        before = {k: getattr(settings, k) for k in changes}
        for key, value in changes.items():
            setattr(settings, key, value)
        settings.save()
        b, a = audit.diff(before, changes)
        audit.record(
            actor=actor, action="billing.settings_updated", at=now, obj=settings, before=b, after=a
        )
    return settings
