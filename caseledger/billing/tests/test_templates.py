"""Invoice templates: create and update share one validation; edits never reach drafted
invoices; a template in use cannot be deactivated."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.billing import services
from caseledger.billing.choices import Cadence, FeeCategory, LineKind, Payer, TriggerKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.forms import DraftForm, TriggerForm
from caseledger.billing.models import InvoiceTemplate
from caseledger.billing.services import schedule
from caseledger.billing.tests.factories import H1B_ATTORNEY_RULE
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _content(template: InvoiceTemplate) -> dict[str, Any]:
    template = InvoiceTemplate.objects.get(pk=template.pk)
    return {
        "columns": {
            f.attname: getattr(template, f.attname) for f in InvoiceTemplate._meta.concrete_fields
        },
        "lines": list(
            template.lines.order_by("position", "id").values(
                "position", "kind", "category", "service_id", "description", "amount_cents"
            )
        ),
    }


def _updates(template: InvoiceTemplate) -> int:
    return AuditEvent.objects.filter(
        action="billing.template_updated", object_id=str(template.pk)
    ).count()


def test_update_changes_the_template_and_audits_only_what_changed(world: Any) -> None:
    template = services.template_update(
        template=world.template,
        actor=world.billing,
        now=world.now,
        name="H-1B filing (2027 fees)",
        lines=[
            {"description": "H-1B petition: preparation and filing", "amount": "3,900.00"},
            {
                "description": "H-4 dependent application",
                "category": FeeCategory.DEPENDENT_FEE,
                "service": world.h4_service,
            },
        ],
        payment_terms_days=15,
    )
    assert template.name == "H-1B filing (2027 fees)"
    assert template.payment_terms_days == 15
    assert list(
        template.lines.order_by("position").values_list(
            "position", "description", "category", "service__code", "amount_cents"
        )
    ) == [
        (1, "H-1B petition: preparation and filing", FeeCategory.ATTORNEY_FEE, "H1B", 390_000),
        (2, "H-4 dependent application", FeeCategory.DEPENDENT_FEE, "H4", None),
    ]
    # untouched: government fees, terms, payer, active
    assert template.government_fee_codes == ["I129", "ACWIA", "FRAUD"]
    assert template.terms == "Government fees are paid to USCIS at filing."
    assert template.active
    event = AuditEvent.objects.get(action="billing.template_updated")
    assert event.object_id == str(template.pk)
    assert event.actor == world.billing
    assert event.before is not None
    assert event.after is not None
    assert set(event.before) == set(event.after) == {"name", "payment_terms_days", "lines"}
    assert event.before["name"] == "H-1B filing"
    assert event.after["payment_terms_days"] == 15
    assert event.before["payment_terms_days"] is None
    assert event.after["lines"][0]["amount_cents"] == 390_000
    assert event.before["lines"] == [
        {
            "description": "H-1B petition: preparation and filing",
            "kind": LineKind.FEE,
            "category": FeeCategory.ATTORNEY_FEE,
            "service": "H1B",
            "amount_cents": None,
        }
    ]


def test_update_with_nothing_changed_writes_nothing(world: Any) -> None:
    services.template_update(
        template=world.template, actor=world.billing, now=world.now, name="H-1B filing"
    )
    assert _updates(world.template) == 0


def test_invoices_already_drafted_keep_their_lines(world: Any) -> None:
    drafted = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    lines_before = list(
        drafted.lines.order_by("position").values_list("description", "amount_cents")
    )
    template = services.template_update(
        template=world.template,
        actor=world.billing,
        now=world.now,
        lines=[{"description": "H-1B petition, flat fee", "amount": "4,200.00"}],
        government_fee_codes=[],
    )
    drafted.refresh_from_db()
    assert drafted.total_cents == 628_000
    assert (
        list(drafted.lines.order_by("position").values_list("description", "amount_cents"))
        == lines_before
    )
    fresh = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=template
    )
    assert list(fresh.lines.values_list("description", "amount_cents")) == [
        ("H-1B petition, flat fee", 420_000)
    ]


# (update arguments, exact message, field): each bad input of the shared validation.
BAD_INPUT = [
    ({"name": "  "}, "name: is required", "name"),
    ({"name": "H-4 dependent"}, "name: a template named 'H-4 dependent' already exists", "name"),
    (
        {"bill_to": "EMPLOYEE"},
        "bill_to: must be one of PETITIONER, BENEFICIARY (got 'EMPLOYEE')",
        "bill_to",
    ),
    ({"installments": 0}, "installments: must be between 1 and 60 (got 0)", "installments"),
    ({"installments": 61}, "installments: must be between 1 and 60 (got 61)", "installments"),
    (
        {"payment_terms_days": 400},
        "payment_terms_days: must be between 0 and 365 days (got 400)",
        "payment_terms_days",
    ),
    (
        {"government_fee_codes": ["I129", "I 129"]},
        "government_fee_codes: 'I 129' is not a fee code (capital letters, digits, '-' or '_')",
        "government_fee_codes",
    ),
    (
        {"lines": [{"description": "Fee"}, {"description": " "}]},
        "line 2 description: is required",
        "lines.1.description",
    ),
    (
        {"lines": [{"description": "Fee", "kind": "GIFT"}]},
        "line 1 kind: must be one of " + ", ".join(LineKind.values) + " (got 'GIFT')",
        "lines.0.kind",
    ),
    (
        {"lines": [{"description": "Fee", "category": "LUXURY"}]},
        "line 1 category: must be one of " + ", ".join(FeeCategory.values) + " (got 'LUXURY')",
        "lines.0.category",
    ),
    (
        {"lines": [{"description": "Fee"}, {"description": "Extra", "amount": "lots"}]},
        "line 2 amount: must be an amount such as 1,234.56 (got 'lots')",
        "lines.1.amount",
    ),
    (
        {"lines": [{"description": "Fee", "amount": "-5"}]},
        "line 1 amount: must not be negative (got -$5.00)",
        "lines.0.amount",
    ),
]


@pytest.mark.parametrize(("changes", "message", "field"), BAD_INPUT)
def test_update_refuses_bad_input_and_changes_nothing(
    world: Any, changes: dict[str, Any], message: str, field: str
) -> None:
    before = _content(world.template)
    with pytest.raises(BillingError) as exc:
        services.template_update(
            template=world.template, actor=world.billing, now=world.now, **changes
        )
    assert (exc.value.message, exc.value.field) == (message, field)
    assert _content(world.template) == before
    assert _updates(world.template) == 0


@pytest.mark.parametrize(("changes", "message", "field"), BAD_INPUT)
def test_create_refuses_the_same_bad_input(
    world: Any, changes: dict[str, Any], message: str, field: str
) -> None:
    arguments: dict[str, Any] = {"name": "New template", "lines": [], **changes}
    count = InvoiceTemplate.objects.count()
    with pytest.raises(BillingError) as exc:
        services.template_create(
            service=world.h1b_service, actor=world.billing, now=world.now, **arguments
        )
    assert (exc.value.message, exc.value.field) == (message, field)
    assert InvoiceTemplate.objects.count() == count


def test_deactivating_a_template_a_trigger_uses_is_refused_naming_the_trigger(world: Any) -> None:
    before = _content(world.template)
    with pytest.raises(BillingError) as exc:
        services.template_update(
            template=world.template, actor=world.billing, now=world.now, active=False
        )
    assert exc.value.field == "active"
    assert exc.value.message == (
        f"active: template H-1B filing still drafts the invoices of trigger "
        f"“{world.h1b.name} · {world.prepare_filing.name}”; remove or end it first, then "
        "deactivate the template"
    )
    assert _content(world.template) == before
    # once the trigger is removed, the template can be retired...
    services.trigger_deactivate(trigger=world.trigger, actor=world.billing, now=world.now)
    template = services.template_update(
        template=world.template, actor=world.billing, now=world.now, active=False
    )
    assert not template.active
    event = AuditEvent.objects.get(action="billing.template_updated")
    assert (event.before, event.after) == ({"active": True}, {"active": False})
    # ...and is no longer offered for new triggers or drafts
    with pytest.raises(BillingError) as refused:
        services.trigger_create(
            case_type=world.h1b,
            template=template,
            kind=TriggerKind.STAGE,
            stage=world.prepare_filing,
            actor=world.billing,
            now=world.now,
        )
    assert refused.value.message == (
        "template: H-1B filing is inactive; reactivate it before adding a trigger"
    )
    assert template not in TriggerForm().fields["template"].queryset  # type: ignore[attr-defined]
    draft_choices = DraftForm(user=world.billing).fields["template"].queryset  # type: ignore[attr-defined]
    assert template not in draft_choices
    # reactivating brings it back
    services.template_update(template=template, actor=world.billing, now=world.now, active=True)
    assert InvoiceTemplate.objects.get(pk=template.pk).active


def test_deactivating_a_template_a_recurring_schedule_uses_is_refused(world: Any) -> None:
    retainer = services.template_create(
        service=world.h1b_service,
        name="Monthly compliance retainer",
        lines=[{"description": "Immigration compliance retainer", "amount": "1,250.00"}],
        actor=world.billing,
        now=world.now,
    )
    services.schedule_create(
        matter=world.matter,
        template=retainer,
        cadence=Cadence.MONTHLY,
        start_date=date(2026, 1, 1),
        actor=world.billing,
        now=world.now,
    )
    with pytest.raises(BillingError) as exc:
        services.template_update(
            template=retainer, actor=world.billing, now=world.now, active=False
        )
    assert exc.value.message == (
        "active: template Monthly compliance retainer still drafts the invoices of the monthly "
        f"schedule of matter {world.matter.number}; remove or end it first, then deactivate the "
        "template"
    )
    assert InvoiceTemplate.objects.get(pk=retainer.pk).active


def test_payer_change_that_an_active_trigger_forbids_is_refused(world: Any) -> None:
    before = _content(world.template)
    with pytest.raises(BillingError) as exc:
        services.template_update(
            template=world.template,
            actor=world.billing,
            now=world.now,
            bill_to=Payer.BENEFICIARY,
        )
    assert exc.value.field == "bill_to"
    assert exc.value.message == (
        f"bill_to: template H-1B filing bills attorney fee to the beneficiary, which case type "
        f"{world.h1b.name} forbids ({H1B_ATTORNEY_RULE})"
    )
    assert _content(world.template) == before
    # the same change with no trigger in the way is allowed (the drafts check each line)
    services.template_update(
        template=world.h4_template, actor=world.billing, now=world.now, bill_to=Payer.PETITIONER
    )


def test_only_roles_that_configure_billing_may_update(world: Any) -> None:
    before = _content(world.template)
    with pytest.raises(NotPermitted):
        services.template_update(
            template=world.template, actor=world.attorney, now=world.now, name="Mine now"
        )
    assert _content(world.template) == before


def test_trigger_create_keeps_refusing_a_payer_rule_breach(world: Any) -> None:
    with pytest.raises(BillingError) as exc:
        services.trigger_create(
            case_type=world.perm,
            template=world.h4_template,
            kind=TriggerKind.CADENCE,
            cadence=Cadence.MONTHLY,
            actor=world.billing,
            now=world.now,
        )
    assert exc.value.field == "bill_to"
    assert exc.value.message.startswith(
        "bill_to: template H-4 dependent bills dependent (e.g. h-4) fee"
    )
    assert schedule.TEMPLATE_LINE_BREAKS_RULE.startswith("bill_to:")
