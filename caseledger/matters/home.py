"""Home page panels of the matters app: my open tasks and the deadlines coming up.

Collected by the home-panel registry (``caseledger.core.home``); each shows to the roles
holding its capability."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from caseledger.core import clock
from caseledger.core.home import HomePanel
from caseledger.matters.models import Deadline
from caseledger.matters.selectors import matters_visible_to, tasks_for_user

UPCOMING_DAYS = 14


def my_tasks_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    today = clock.firm_date(now)
    tasks = tasks_for_user(user=request.user)
    counts = tasks.aggregate(
        open_count=Count("id"), overdue_count=Count("id", filter=Q(due_date__lt=today))
    )
    return {"tasks": list(tasks[:6]), **counts, "today": today}


def deadlines_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    today = clock.firm_date(now)
    deadlines = (
        Deadline.objects.filter(
            matter__in=matters_visible_to(request.user).values("pk"),
            met_at__isnull=True,
            due_date__lte=today + timedelta(days=UPCOMING_DAYS),
        )
        .select_related("matter", "matter__client")
        .order_by("due_date", "id")
    )
    return {"deadlines": list(deadlines[:8]), "days": UPCOMING_DAYS, "today": today}


PANELS = [
    HomePanel(
        key="matters.my_tasks",
        title="My tasks",
        template="matters/home/my_tasks.html",
        capability="tasks.view",
        context=my_tasks_context,
        order=20,
    ),
    HomePanel(
        key="matters.deadlines",
        title=f"Deadlines in the next {UPCOMING_DAYS} days",
        template="matters/home/deadlines.html",
        capability="matters.view",
        context=deadlines_context,
        order=25,
        wide=True,  # a table of date, kind, matter and client: too cramped in a third
    ),
]
