"""The trigger engine: a stage reached drafts its invoice exactly once per (matter, trigger)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from caseledger.billing import services
from caseledger.billing.choices import FeeCategory, InvoiceStatus, LineKind, Payer, TriggerKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import Invoice, TriggerFiring
from caseledger.core.models import AuditEvent
from caseledger.matters.models import StageEvent, Task
from caseledger.matters.services import matter_stage_advance

pytestmark = pytest.mark.django_db


def _advance_to_prepare_filing(world: Any, matter: Any) -> Any:
    for code in ("lca_filed", "petition_prepared", "prepare_filing"):
        event = matter_stage_advance(
            matter=matter, stage=code, actor=world.paralegal, now=world.now
        )
        matter.refresh_from_db()
    return event


def test_stage_event_drafts_the_template_invoice_into_the_review_queue(world: Any) -> None:
    event = _advance_to_prepare_filing(world, world.matter)
    invoice = Invoice.objects.get(matter=world.matter)
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert invoice.triggered_at == event.at
    assert invoice.template == world.template
    assert invoice.total_cents == 628_000
    assert invoice.responsible_partner == world.partner
    firing = TriggerFiring.objects.get(matter=world.matter, trigger=world.trigger)
    assert firing.invoice == invoice
    actions = list(
        AuditEvent.objects.filter(object_type="billing.invoice", object_id=str(invoice.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["billing.invoice_drafted", "billing.invoice_submitted"]


def test_the_same_trigger_never_fires_twice_for_a_matter(world: Any) -> None:
    event = _advance_to_prepare_filing(world, world.matter)
    # a retry of the same event, and a second event for the same stage
    services.on_stage_event(event)
    second = StageEvent.objects.create(
        matter=world.matter, stage=event.stage, from_stage=event.stage, actor=None, at=world.now
    )
    services.on_stage_event(second)
    assert Invoice.objects.filter(matter=world.matter).count() == 1
    assert TriggerFiring.objects.count() == 1


def test_other_stages_and_case_types_do_not_fire(world: Any) -> None:
    matter_stage_advance(
        matter=world.matter, stage="lca_filed", actor=world.paralegal, now=world.now
    )
    perm = world.new_matter(case_type_code="perm")
    matter_stage_advance(
        matter=perm, stage="prevailing_wage_requested", actor=world.paralegal, now=world.now
    )
    assert not Invoice.objects.exists()


def test_a_trigger_for_a_stage_of_another_case_type_is_refused(world: Any) -> None:
    perm_stage = world.perm.stages.get(code="recruitment")
    with pytest.raises(BillingError) as exc:
        services.trigger_create(
            case_type=world.h1b,
            template=world.template,
            kind=TriggerKind.STAGE,
            stage=perm_stage,
            actor=world.partner,
            now=world.now,
        )
    assert exc.value.message == ("stage: Recruitment is not a stage of case type H-1B cap petition")


def test_a_trigger_whose_template_breaks_a_payer_rule_is_refused(world: Any) -> None:
    template = services.template_create(
        service=world.h1b_service,
        name="H-1B billed to employee",
        bill_to=Payer.BENEFICIARY,
        lines=[{"description": "Legal fee", "amount": None}],
        actor=world.partner,
        now=world.now,
    )
    with pytest.raises(BillingError) as exc:
        services.trigger_create(
            case_type=world.h1b,
            template=template,
            kind=TriggerKind.STAGE,
            stage=world.h1b.stages.get(code="filed"),
            actor=world.partner,
            now=world.now,
        )
    assert exc.value.message.startswith(
        "bill_to: template H-1B billed to employee bills attorney fee to the beneficiary, which "
        "case type H-1B cap petition forbids (20 CFR 655.731(c)(9)"
    )


def test_a_drafting_failure_opens_a_billing_task_and_lets_the_stage_advance(world: Any) -> None:
    template = services.template_create(
        service=world.h1b_service,
        name="Needs a fee that does not exist",
        lines=[{"description": "Legal fee", "amount": "100"}],
        government_fee_codes=["BIOMETRICS"],
        actor=world.partner,
        now=world.now,
    )
    services.trigger_create(
        case_type=world.h1b,
        template=template,
        kind=TriggerKind.STAGE,
        stage=world.h1b.stages.get(code="lca_filed"),
        actor=world.partner,
        now=world.now,
    )
    matter_stage_advance(
        matter=world.matter, stage="lca_filed", actor=world.paralegal, now=world.now
    )
    world.matter.refresh_from_db()
    assert world.matter.current_stage.code == "lca_filed"
    assert not Invoice.objects.exists()
    assert not TriggerFiring.objects.exists()  # a later event may try again
    task = Task.objects.get(matter=world.matter)
    assert "case type H-1B cap petition has no BIOMETRICS fee in force" in task.description


def test_template_with_unbilled_work(world: Any) -> None:
    from datetime import date

    template = services.template_create(
        service=world.rfe_service,
        name="RFE response",
        lines=[],
        include_unbilled=True,
        actor=world.partner,
        now=world.now,
    )
    services.trigger_create(
        case_type=world.h1b,
        template=template,
        kind=TriggerKind.STAGE,
        stage=world.h1b.stages.get(code="lca_filed"),
        actor=world.partner,
        now=world.now,
    )
    services.time_entry_create(
        timekeeper=world.partner,
        matter=world.matter,
        work_date=date(2026, 11, 1),
        hours="2",
        activity_code="A103",
        task_code="L250",
        narrative="RFE strategy",
        actor=world.partner,
        now=world.now,
    )
    matter_stage_advance(
        matter=world.matter, stage="lca_filed", actor=world.paralegal, now=world.now
    )
    invoice = Invoice.objects.get(matter=world.matter)
    assert list(invoice.lines.values_list("kind", "amount_cents")) == [(LineKind.TIME, 130_000)]
    assert invoice.lines.get().category == FeeCategory.ATTORNEY_FEE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_stage_events_draft_one_invoice(
    require_postgres: None, users: dict[str, Any], settings: Any
) -> None:
    from caseledger.billing.tests.factories import build_world

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    for _round in range(3):
        matter = world.new_matter()
        for code in ("lca_filed", "petition_prepared"):
            matter_stage_advance(matter=matter, stage=code, actor=world.paralegal, now=world.now)
        # two stage events for the same stage (two requests, or a retry racing the original)
        events = [
            StageEvent.objects.create(
                matter=matter, stage=world.prepare_filing, from_stage=None, actor=None, at=world.now
            )
            for _ in range(2)
        ]
        barrier = threading.Barrier(2)
        drafted: list[int] = []
        errors: list[BaseException] = []

        def fire(
            event: StageEvent,
            barrier: threading.Barrier = barrier,
            drafted: list[int] = drafted,
            errors: list[BaseException] = errors,
        ) -> None:
            from django.db import transaction

            try:
                barrier.wait()
                with transaction.atomic():
                    services.on_stage_event(event)
                drafted.append(1)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=fire, args=(e,)) for e in events]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(drafted) == 2  # both requests succeed; one of them drafts nothing
        assert Invoice.objects.filter(matter=matter).count() == 1
        assert TriggerFiring.objects.filter(matter=matter).count() == 1
        assert TriggerFiring.objects.get(matter=matter).invoice is not None


def test_an_hourly_template_without_unbilled_work_drafts_nothing(world: Any) -> None:
    template = services.template_create(
        service=world.rfe_service,
        name="Hourly only",
        lines=[],
        include_unbilled=True,
        actor=world.partner,
        now=world.now,
    )
    trigger = services.trigger_create(
        case_type=world.h1b,
        template=template,
        kind=TriggerKind.STAGE,
        stage=world.h1b.stages.get(code="lca_filed"),
        actor=world.partner,
        now=world.now,
    )
    matter_stage_advance(
        matter=world.matter, stage="lca_filed", actor=world.paralegal, now=world.now
    )
    assert not Invoice.objects.exists()
    firing = TriggerFiring.objects.get(trigger=trigger)
    assert firing.invoice is None
    assert AuditEvent.objects.filter(action="billing.trigger_nothing_to_bill").count() == 1
