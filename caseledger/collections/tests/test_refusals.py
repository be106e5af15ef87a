"""Every refusal of the collections services that no other test checked by its text: each is
raised with the message naming the field and the rule, and a refused call leaves activities,
disputes, payment plans, holds, policies, their stages and audit events as they were
(``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from caseledger.collections import exceptions as E
from caseledger.collections.choices import ActivityKind, HoldStatus
from caseledger.collections.models import (
    CollectionActivity,
    CollectionHold,
    CollectionPolicy,
    InvoiceDispute,
    PaymentPlan,
    PolicyStage,
)
from caseledger.collections.services import (
    activity_record,
    collection_hold_lift,
    collections_run,
    dispute_open,
    dispute_resolve,
    matter_hold_lift_by_partner,
    payment_plan_create,
)
from caseledger.collections.services.policies import StageInput, policy_save
from caseledger.core.models import AuditEvent
from caseledger.credits.tests import factories as F
from caseledger.matters.models import Matter

pytestmark = pytest.mark.django_db

DUE = date(2026, 8, 1)


def _state() -> dict[str, Any]:
    return {
        "activities": CollectionActivity.objects.count(),
        "disputes": list(InvoiceDispute.objects.values().order_by("id")),
        "plans": list(PaymentPlan.objects.values().order_by("id")),
        "holds": list(CollectionHold.objects.values().order_by("id")),
        "policies": list(CollectionPolicy.objects.values().order_by("id")),
        "stages": list(PolicyStage.objects.values().order_by("id")),
        "matter_holds": list(Matter.objects.values("id", "hold_new_work").order_by("id")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises CollectionsError matching
    ``match`` and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(E.CollectionsError, match=match):
            call(**kwargs)
        assert _state() == before

    return check


@pytest.fixture
def inv(users: dict[str, Any]) -> Any:
    m = F.matter(partner=users["PARTNER"])
    return F.invoice(matter_obj=m, cents=50_000, issued=DUE - timedelta(days=30), due=DUE)


def _stage(**changes: Any) -> StageInput:
    values: dict[str, Any] = {
        "code": "friendly",
        "name": "Friendly reminder",
        "days_from": 7,
        "days_to": 29,
        "subject": "Reminder: invoice {invoice} is past due",
    }
    return StageInput(**{**values, **changes})


def test_policy_save_refuses_no_name_an_unknown_client_type_and_bad_at_risk_days(
    users, now, refused
):
    args = {"policy": None, "stages": [_stage()], "actor": users["PARTNER"], "now": now}
    refused(policy_save, match=r"^name: required$", name=" ", client_type="", **args)
    refused(
        policy_save,
        match=(
            r"^client_type: must be blank \(firm default\) or one of PRIVATE, CORPORATE "
            r"\(got 'ALIEN'\)$"
        ),
        name="Policy",
        client_type="ALIEN",
        **args,
    )
    refused(
        policy_save,
        match=r"^at_risk_days: must be between 1 and 365 \(got 0\)$",
        name="Policy",
        client_type="",
        at_risk_days=0,
        **args,
    )


def test_policy_save_refuses_each_bad_stage_naming_it(users, now, refused):
    args = {"policy": None, "name": "Policy", "client_type": "", "actor": users["PARTNER"]}

    def check(stages: list[StageInput], *, match: str) -> None:
        refused(policy_save, match=match, stages=stages, now=now, **args)

    check([], match=r"^stages: a policy needs at least one stage$")
    check(
        [_stage(code="Friendly")],
        match=r"^stages\[0\]\.code: lower-case letters, digits and _ only \(got 'Friendly'\)$",
    )
    check(
        [_stage(), _stage(days_from=30, days_to=None)],
        match=r"^stages\[1\]\.code: 'friendly' is used by another stage of this policy$",
    )
    check([_stage(name="  ")], match=r"^stages\[0\]\.name: required$")
    check(
        [_stage(days_from=0)],
        match=r"^stages\[0\]\.days_from: must be 1 or more days past due \(got 0\)$",
    )
    check(
        [_stage(days_to=5)],
        match=r"^stages\[0\]\.days_to: must be blank or at least days_from 7 \(got 5\)$",
    )
    check(
        [_stage(send_email=False)],
        match=(
            r"^stages\[0\]: choose at least one action \(email, letter, task, escalation or "
            r"hold\)$"
        ),
    )
    check(
        [_stage(subject=" ", send_email=False, send_letter=True)],
        match=r"^stages\[0\]\.subject: required when the stage sends an email or a letter$",
    )


def test_activities_refuse_a_past_promise_a_bad_amount_and_a_settled_invoice(
    users, now, inv, refused
):
    args = {"invoice": inv, "actor": users["BILLING"], "now": now}
    refused(
        activity_record,
        match=r"^promised_date: must be on or after 2026-11-02 \(got 2026-11-01\)$",
        kind=ActivityKind.PROMISE_TO_PAY,
        promised_date=date(2026, 11, 1),
        **args,
    )
    refused(
        activity_record,
        match=r"^promised_amount: must be positive \(got \$0\.00\)$",
        kind=ActivityKind.PROMISE_TO_PAY,
        promised_date=date(2026, 11, 20),
        promised_cents=0,
        **args,
    )
    F.pay(invoice_obj=inv, cents=50_000, day=DUE)
    refused(
        activity_record,
        match=rf"^invoice: {re.escape(str(inv))} has no balance due; nothing to collect$",
        kind=ActivityKind.MANUAL_REMINDER,
        **args,
    )


def test_disputes_refuse_no_reason_a_second_open_one_no_resolution_and_a_second_resolve(
    users, now, inv, refused
):
    args = {"actor": users["BILLING"], "now": now}
    refused(
        dispute_open,
        match=r"^reason: say what the client disputes$",
        invoice=inv,
        reason=" ",
        **args,
    )
    dispute = dispute_open(invoice=inv, reason="Fee not agreed", **args)
    refused(
        dispute_open,
        match=rf"^invoice: {re.escape(str(inv))} already has an open dispute$",
        invoice=inv,
        reason="Again",
        **args,
    )
    refused(
        dispute_resolve,
        match=r"^resolution: say how the dispute was resolved$",
        dispute=dispute,
        resolution="",
        **args,
    )
    dispute_resolve(dispute=dispute, resolution="Partner agreed a discount", **args)
    refused(
        dispute_resolve,
        match=r"^dispute: already resolved$",
        dispute=dispute,
        resolution="Again",
        **args,
    )


def test_payment_plans_refuse_bad_installments_intervals_and_a_second_plan(
    users, now, inv, refused
):
    args = {
        "invoice": inv,
        "first_due_date": date(2026, 12, 1),
        "actor": users["BILLING"],
        "now": now,
    }
    refused(
        payment_plan_create,
        match=r"^installment: must be positive \(got -\$1\.00\)$",
        installment_cents=-100,
        interval_days=30,
        **args,
    )
    refused(
        payment_plan_create,
        match=r"^interval_days: must be between 1 and 366 \(got 367\)$",
        installment_cents=10_000,
        interval_days=367,
        **args,
    )
    payment_plan_create(installment_cents=10_000, interval_days=30, **args)
    refused(
        payment_plan_create,
        match=rf"^invoice: {re.escape(str(inv))} already has an active payment plan$",
        installment_cents=5_000,
        interval_days=14,
        **args,
    )


def test_lifting_refuses_a_matter_without_an_active_hold(users, now, inv, refused):
    args = {"actor": users["PARTNER"], "reason": "Agreed plan by phone", "now": now}
    refused(
        matter_hold_lift_by_partner,
        match=rf"^matter: {re.escape(str(inv.matter))} has no collections hold to lift$",
        matter=inv.matter,
        **args,
    )
    collections_run(run_date=DUE + timedelta(days=61), now=now, deliver=False)
    hold = CollectionHold.objects.get(matter=inv.matter, status=HoldStatus.ACTIVE)
    collection_hold_lift(hold=hold, **args)
    refused(
        collection_hold_lift,
        match=rf"^matter: {re.escape(str(inv.matter))} has no collections hold to lift$",
        hold=hold,
        **args,
    )
