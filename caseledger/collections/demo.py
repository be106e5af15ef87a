"""Demo firm: a corporate override policy, a few past collection runs (so the queue and the
invoice histories have reminders), a promise to pay, an at-risk matter (an RFE due soon on a
matter with an overdue balance) and whatever holds the escalation stage set. Idempotent:
nothing happens once a run exists."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps as django_apps
from django.test.utils import override_settings

from caseledger.core.choices import Role
from caseledger.core.demo_context import DemoContext
from caseledger.core.models import User


def seed(ctx: DemoContext) -> None:
    from caseledger.clients.choices import ClientType
    from caseledger.collections.choices import ActivityKind
    from caseledger.collections.models import CollectionPolicy, CollectionRun
    from caseledger.collections.services import (
        StageInput,
        activity_record,
        at_risk_refresh,
        collections_run,
        policy_default_ensure,
        policy_save,
    )
    from caseledger.collections.services.plan import matters_with_overdue_balance
    from caseledger.collections.services.policies import DEFAULT_STAGES

    if CollectionRun.objects.exists():
        return
    if not django_apps.is_installed("caseledger.payments"):
        return  # invoices have no settlement rows without the payments app
    partner = ctx.users.get("partner") or User.objects.filter(role=Role.PARTNER).first()
    billing = ctx.users.get("billing") or User.objects.filter(role=Role.BILLING).first()
    policy_default_ensure(now=ctx.now)
    if not CollectionPolicy.objects.filter(client_type=ClientType.CORPORATE).exists():
        stages = [
            StageInput(**{**s.__dict__, "days_from": f, "days_to": t})
            for s, (f, t) in zip(DEFAULT_STAGES, [(14, 44), (45, 89), (90, None)], strict=True)
        ]
        policy_save(
            policy=None,
            name="Corporate clients (net terms, longer grace)",
            client_type=ClientType.CORPORATE,
            stages=stages,
            actor=partner,
            now=ctx.now,
        )
    # Past runs leave a reminder history; demo email goes to memory, not to real clients.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for days_ago in (21, 14, 7, 1):
            day = ctx.today - timedelta(days=days_ago)
            collections_run(run_date=day, now=ctx.now - timedelta(days=days_ago))
    overdue = matters_with_overdue_balance(ctx.today)
    if overdue and billing is not None:
        from caseledger.collections.integration import open_settlements

        settlement = (
            open_settlements(due_before=ctx.today)
            .select_related("invoice")
            .order_by("-invoice_id")
            .first()
        )
        if settlement is not None:
            activity_record(
                invoice=settlement.invoice,
                kind=ActivityKind.PROMISE_TO_PAY,
                promised_date=ctx.today + timedelta(days=10),
                note="Controller promised payment after their month-end close",
                actor=billing,
                now=ctx.now,
            )
        from caseledger.matters.choices import DeadlineKind
        from caseledger.matters.models import Matter
        from caseledger.matters.services import deadline_create

        worst = max(overdue.items(), key=lambda item: item[1]["days"])[0]
        matter = Matter.objects.get(pk=worst)
        if not matter.deadlines.filter(met_at__isnull=True).exists():
            deadline_create(
                matter=matter,
                kind=DeadlineKind.RFE_RESPONSE,
                due_date=ctx.today + timedelta(days=9),
                description="RFE: evidence of specialty occupation",
                actor=partner,
                now=ctx.now,
            )
    at_risk_refresh(run_date=ctx.today)
