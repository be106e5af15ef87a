"""Fee schedule, rates, payer rules, templates, triggers and billing settings."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.db import transaction

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
from caseledger.billing.models import (
    BillingSettings,
    BillingTrigger,
    GovernmentFee,
    HourlyRate,
    InvoiceTemplate,
    PayerRule,
    Service,
    TemplateLine,
)
from caseledger.billing.services.common import firm_currency, parse_amount
from caseledger.core import audit

CODE_INVALID = "code: use capital letters, digits, '-' or '_' (got {value!r})"
CODE_TAKEN = "code: a service with code {value} already exists"
NAME_REQUIRED = "name: is required"
UTBMS_TASK_INVALID = "utbms_task_code: must look like L120 or B110 (got {value!r})"
UTBMS_ACTIVITY_INVALID = "utbms_activity_code: must look like A103 (got {value!r})"
EXPENSE_CODE_INVALID = "expense_code: must look like E123 (got {value!r})"
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

_CODE = re.compile(r"^[A-Z0-9_-]{2,32}$")
_TASK = re.compile(r"^[A-Z]\d{3}$")
_ACTIVITY = re.compile(r"^A\d{3}$")
_EXPENSE = re.compile(r"^E\d{3}$")


def _check_codes(*, task: str, activity: str) -> None:
    if task and not _TASK.match(task):
        raise BillingError(UTBMS_TASK_INVALID.format(value=task), field="utbms_task_code")
    if activity and not _ACTIVITY.match(activity):
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
    expense_code: str = "E123",
    actor: Any,
    now: datetime,
) -> GovernmentFee:
    """A government fee amount from ``effective_date``; earlier rows stay for earlier dates."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise BillingError(CODE_INVALID.format(value=code), field="code")
    if not _EXPENSE.match(expense_code):
        raise BillingError(EXPENSE_CODE_INVALID.format(value=expense_code), field="expense_code")
    cents = parse_amount(amount, field="amount", currency=firm_currency())
    with transaction.atomic():
        fee, created = GovernmentFee.objects.update_or_create(
            case_type=case_type,
            code=code,
            effective_date=effective_date,
            defaults={
                "name": name.strip() or code,
                "amount_cents": cents,
                "category": category,
                "expense_code": expense_code,
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
    """A template; ``lines`` are dicts with description, kind, category, amount (None = the
    service's price) and service."""
    if not name.strip():
        raise BillingError(NAME_REQUIRED, field="name")
    if not 1 <= installments <= 60:
        raise BillingError(INSTALLMENTS_INVALID.format(value=installments), field="installments")
    with transaction.atomic():
        template = InvoiceTemplate.objects.create(
            service=service,
            name=name.strip(),
            bill_to=bill_to,
            include_unbilled=include_unbilled,
            government_fee_codes=[c.upper() for c in (government_fee_codes or [])],
            installments=installments,
            terms=terms,
            notes=notes,
            payment_terms_days=payment_terms_days,
        )
        for position, spec in enumerate(lines, start=1):
            amount = spec.get("amount")
            TemplateLine.objects.create(
                template=template,
                position=position,
                kind=spec.get("kind", LineKind.FEE),
                category=spec.get("category", FeeCategory.ATTORNEY_FEE),
                service=spec.get("service", service),
                description=spec["description"],
                amount_cents=None
                if amount is None
                else parse_amount(amount, field="amount", currency=firm_currency()),
            )
        audit.record(
            actor=actor,
            action="billing.template_created",
            at=now,
            obj=template,
            after={"name": template.name, "service": service.code, "lines": len(lines)},
        )
    return template


def _template_categories(template: InvoiceTemplate, case_type: Any) -> list[str]:
    categories = [line.category for line in template.lines.all()]
    for code in template.government_fee_codes:
        fee = (
            GovernmentFee.objects.filter(case_type=case_type, code=code)
            .order_by("-effective_date")
            .first()
        )
        if fee:
            categories.append(fee.category)
    return categories


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
    if template.bill_to == Payer.BENEFICIARY:
        for category in _template_categories(template, case_type):
            rule = PayerRule.objects.filter(case_type=case_type, category=category).first()
            if rule and not rule.beneficiary_may_pay:
                raise BillingError(
                    TEMPLATE_LINE_BREAKS_RULE.format(
                        template=template.name,
                        category=FeeCategory(category).label.lower(),
                        case_type=case_type.name,
                        citation=rule.citation,
                    ),
                    field="bill_to",
                )
    with transaction.atomic():
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
    ledes_law_firm_id: str | None = None,
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
    if ledes_law_firm_id is not None:
        changes["ledes_law_firm_id"] = ledes_law_firm_id.strip()
    with transaction.atomic():
        settings, _ = BillingSettings.objects.get_or_create(id=1)
        settings = BillingSettings.objects.select_for_update().get(id=1)
        before = {k: getattr(settings, k) for k in changes}
        for key, value in changes.items():
            setattr(settings, key, value)
        settings.save()
        b, a = audit.diff(before, changes)
        audit.record(
            actor=actor, action="billing.settings_updated", at=now, obj=settings, before=b, after=a
        )
    return settings
