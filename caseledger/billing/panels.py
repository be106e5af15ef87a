"""Billing's panels on the matter and client pages (``caseledger.core.panels``): unbilled time
and expenses, and the next billing trigger (which stage bills what). Also the stage-advance
notice that names the invoice a stage drafted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.urls import reverse

from caseledger.billing.choices import TriggerKind
from caseledger.billing.models import BillingTrigger, Expense, TimeEntry, TriggerFiring
from caseledger.core.panels import Notice, PagePanel, PanelScope

DRAFTED = "Drafted invoice for {template}, waiting for review:"


def _unbilled(matter_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per matter: unbilled billable time (entries, minutes, cents) and expenses (count, cents),
    two grouped queries."""
    rows: dict[int, dict[str, int]] = {}
    time = (
        TimeEntry.objects.filter(matter_id__in=matter_ids, billable=True, invoice_line__isnull=True)
        .values("matter_id")
        .annotate(n=Count("id"), minutes=Sum("minutes"), cents=Sum("amount_cents"))
    )
    for t in time:
        rows.setdefault(t["matter_id"], {}).update(
            time_count=t["n"], minutes=int(t["minutes"] or 0), time_cents=int(t["cents"] or 0)
        )
    expenses = (
        Expense.objects.filter(matter_id__in=matter_ids, billable=True, invoice_line__isnull=True)
        .values("matter_id")
        .annotate(n=Count("id"), cents=Sum("amount_cents"))
    )
    for r in expenses:
        rows.setdefault(r["matter_id"], {}).update(
            expense_count=r["n"], expense_cents=int(r["cents"] or 0)
        )
    return rows


def _next_triggers(scope: PanelScope) -> dict[int, list[BillingTrigger]]:
    """Per matter: the active stage triggers still ahead of it (later stage, not yet fired),
    in stage order. Two queries whatever the number of matters."""
    matters = [m for m in scope.matters if not m.is_closed]
    case_types = {m.case_type_id for m in matters}
    triggers = list(
        BillingTrigger.objects.filter(
            case_type_id__in=case_types, kind=TriggerKind.STAGE, active=True
        )
        .select_related("stage", "template", "template__service")
        .order_by("stage__position", "id")
    )
    fired = set(
        TriggerFiring.objects.filter(matter_id__in=[m.pk for m in matters]).values_list(
            "matter_id", "trigger_id"
        )
    )
    out: dict[int, list[BillingTrigger]] = {}
    for m in matters:
        here = m.current_stage.position if m.current_stage_id else 0  # type: ignore[union-attr]
        out[m.pk] = [
            t
            for t in triggers
            if t.case_type_id == m.case_type_id
            and t.stage.position > here  # type: ignore[union-attr]
            and (m.pk, t.pk) not in fired
        ]
    return out


def unbilled_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    ids = list(scope.matter_ids)
    per_matter = _unbilled(ids)
    totals = {
        key: sum(r.get(key, 0) for r in per_matter.values())
        for key in ("time_count", "minutes", "time_cents", "expense_count", "expense_cents")
    }
    rows = [(m, per_matter[m.pk]) for m in scope.matters if m.pk in per_matter]
    return {
        "totals": totals,
        "hours": (Decimal(totals["minutes"]) / 60).quantize(Decimal("0.1")),
        "total_cents": totals["time_cents"] + totals["expense_cents"],
        "rows": rows,
        "client_page": scope.page == "client",
    }


def next_trigger_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    ahead = _next_triggers(scope)
    rows = [(m, ahead[m.pk]) for m in scope.matters if ahead.get(m.pk)]
    return {
        "triggers": ahead.get(scope.matter.pk, []) if scope.matter is not None else [],
        "rows": rows,
        "client_page": scope.page == "client",
    }


def drafted_invoice_notice(event: Any) -> list[Notice]:
    """The draft(s) this stage event's triggers produced (TriggerFiring at the event's time)."""
    firings = TriggerFiring.objects.filter(
        matter_id=event.matter_id, fired_at=event.at, invoice__isnull=False
    ).select_related("invoice", "trigger__template")
    return [
        Notice(
            text=DRAFTED.format(template=f.trigger.template.name),
            url=reverse("billing:invoice_detail", args=[f.invoice_id]),
            link_text="open the draft",
        )
        for f in firings.order_by("id")
    ]


PANELS = [
    PagePanel(
        key="billing.unbilled",
        title="Unbilled work",
        template="billing/panels/unbilled.html",
        capability="billing.view",
        context=unbilled_context,
        order=30,
    ),
    PagePanel(
        key="billing.next_trigger",
        title="Next billing",
        template="billing/panels/next_trigger.html",
        capability="billing.view",
        context=next_trigger_context,
        order=35,
    ),
]

STAGE_NOTICES = [drafted_invoice_notice]

__all__ = ["PANELS", "STAGE_NOTICES"]
