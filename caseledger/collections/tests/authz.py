"""Authorization matrix entries for the collections pages and API (format:
core/tests/test_authz_matrix.py)."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

VIEW = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value})
POLICIES = frozenset({Role.ADMIN.value, Role.PARTNER.value})
RUN = frozenset({Role.ADMIN.value, Role.BILLING.value})
AT_RISK = VIEW | {Role.ATTORNEY.value}


def _invoice(ctx: Any) -> Any:
    from datetime import date

    from caseledger.credits.tests import factories as F

    return F.invoice(
        matter_obj=F.matter(), cents=100_000, issued=date(2026, 7, 1), due=date(2026, 8, 1)
    )


def _invoice_pk(ctx: Any) -> dict[str, Any]:
    return {"pk": _invoice(ctx).pk}


def _policy(ctx: Any) -> dict[str, Any]:
    from caseledger.collections.services import policy_default_ensure

    return {"pk": policy_default_ensure(now=ctx.now).pk}


def _letter(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.collections.models import Reminder
    from caseledger.collections.services import collections_run

    invoice = _invoice(ctx)
    collections_run(run_date=date(2026, 9, 1), now=ctx.now, deliver=False)
    return {"pk": Reminder.objects.get(invoice=invoice, channel="LETTER").pk}


def _reminder(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.collections.models import Reminder
    from caseledger.collections.services import collections_run

    invoice = _invoice(ctx)
    collections_run(run_date=date(2026, 8, 9), now=ctx.now, deliver=False)
    return {"pk": Reminder.objects.get(invoice=invoice, channel="EMAIL").pk}


def _hold(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.collections.models import CollectionHold
    from caseledger.collections.services import collections_run

    invoice = _invoice(ctx)
    collections_run(run_date=date(2026, 10, 5), now=ctx.now, deliver=False)
    return {"pk": CollectionHold.objects.get(matter=invoice.matter).pk}


def _dispute(ctx: Any) -> dict[str, Any]:
    from caseledger.collections.services import dispute_open

    d = dispute_open(
        invoice=_invoice(ctx), reason="fee", actor=ctx.users[Role.BILLING.value], now=ctx.now
    )
    return {"pk": d.pk}


def _plan(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.collections.services import payment_plan_create

    plan = payment_plan_create(
        invoice=_invoice(ctx),
        installment_cents=10_000,
        first_due_date=date(2026, 12, 1),
        interval_days=30,
        actor=ctx.users[Role.BILLING.value],
        now=ctx.now,
    )
    return {"pk": plan.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "collections:aging": {"allow": VIEW},
    "collections:aging_invoices": {"allow": VIEW},
    "collections:queue": {"allow": VIEW},
    "collections:run_now": {"allow": RUN, "method": "POST"},
    "collections:reminder_retry": {"allow": VIEW, "method": "POST", "kwargs": _reminder},
    "collections:letter_pdf": {"allow": VIEW, "kwargs": _letter},
    "collections:policies": {"allow": POLICIES},
    "collections:policy_create": {"allow": POLICIES},
    "collections:policy_edit": {"allow": POLICIES, "kwargs": _policy},
    "collections:at_risk": {"allow": AT_RISK},
    "collections:hold_lift": {
        "allow": POLICIES,
        "method": "POST",
        "kwargs": _hold,
        "data": {"reason": "agreed"},
    },
    "collections:invoice_history": {"allow": VIEW, "kwargs": _invoice_pk},
    "collections:activity_create": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _invoice_pk,
        "data": {"kind": "NOTE", "note": "called"},
    },
    "collections:dispute_open": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _invoice_pk,
        "data": {"reason": "fee"},
    },
    "collections:dispute_resolve": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _dispute,
        "data": {"resolution": "agreed"},
    },
    "collections:plan_create": {
        "allow": VIEW,
        "method": "POST",
        "kwargs": _invoice_pk,
        "data": {"installment": "100.00", "first_due_date": "2026-12-01", "interval_days": "30"},
    },
    "collections:plan_cancel": {"allow": VIEW, "method": "POST", "kwargs": _plan},
    "GET /api/v1/collections/aging": {"allow": VIEW},
}
