"""Scheduled partner reports: each active subscription gets the KPI report of its last full
period (the week Monday to Sunday, or the calendar month) by email through the outbox, exactly
once per subscriber and period (``ReportDelivery`` is unique per period and the outbox key is
too), from the huey periodic task or ``manage.py send_reports --date``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from caseledger.core import outbox
from caseledger.core.replica import replica_reads
from caseledger.core.selectors import firm_get
from caseledger.reports import narrative, pdf, selectors
from caseledger.reports.metrics import ALL, Period, month_start
from caseledger.reports.models import Cadence, ReportDelivery, ReportSubscription

REPORT_KIND = "reports.scheduled"


def period_for(cadence: str, today: dt.date) -> Period:
    """The last full period before ``today``: last week (Monday to Sunday) or last month."""
    if cadence == Cadence.WEEKLY:
        monday = today - dt.timedelta(days=today.weekday())
        return Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
    first = month_start(today)
    return Period(month_start(today, back=1), first - dt.timedelta(days=1))


def _body(user: Any, period: Period, story: narrative.Narrative, firm_name: str) -> str:
    lines = [
        f"Dear {user.get_full_name() or user.get_username()},",
        "",
        f"The KPI report of {firm_name} for {period.start:%b %d, %Y} to {period.end:%b %d, %Y} "
        "is attached.",
        "",
        "What moved:",
        *([f"- {m}" for m in story.moves] or ["- No KPI moved past its threshold."]),
        "",
        "Matters to call this week:",
        *([f"- {a}" for a in story.actions] or ["- Nothing is more than 30 days past due."]),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SendResult:
    date: dt.date
    sent: int
    already: int
    skipped: int  # subscribers without an email address

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "sent": self.sent,
            "already": self.already,
            "skipped": self.skipped,
        }


def reports_send(*, today: dt.date, now: dt.datetime) -> SendResult:
    """Queue the due report of every active subscription (one transaction each)."""
    from caseledger.billing.services.common import firm_currency

    currency = firm_currency()
    firm_name = firm_get().name
    sent = already = skipped = 0
    subscriptions = ReportSubscription.objects.filter(active=True).select_related("user")
    for sub in subscriptions.order_by("id"):
        period = period_for(sub.cadence, today)
        if ReportDelivery.objects.filter(
            subscription=sub, period_start=period.start, period_end=period.end
        ).exists():
            already += 1
            continue
        if not sub.user.email or not sub.user.is_active:
            skipped += 1
            continue
        with replica_reads():  # the figures only; delivery checks and writes: the primary
            board = selectors.dashboard(period, ALL)
        story = narrative.narrative(
            current=board.current, baseline=board.baseline, filters=ALL, currency=currency
        )
        title = f"{sub.get_cadence_display().split(' ')[0]} KPI report"
        content = pdf.report_pdf(board, story, currency=currency, title=title)
        key = f"reports.scheduled:{sub.pk}:{period.start}:{period.end}"
        try:
            with transaction.atomic():
                message = outbox.enqueue(
                    key=key,
                    kind=REPORT_KIND,
                    to=[sub.user.email],
                    subject=f"{title}: {period.start:%b %d} to {period.end:%b %d, %Y}",
                    body=_body(sub.user, period, story, firm_name),
                    now=now,
                    attachments=[
                        outbox.Attachment(
                            filename=f"kpi-report-{period.start}-{period.end}.pdf",
                            content=content,
                            mimetype="application/pdf",
                        )
                    ],
                    related=sub,
                )
                ReportDelivery.objects.create(
                    subscription=sub,
                    period_start=period.start,
                    period_end=period.end,
                    message_id=message.pk,
                    created_at=now,
                )
        except IntegrityError:
            already += 1  # a concurrent run recorded this period first
            continue
        sent += 1
    return SendResult(date=today, sent=sent, already=already, skipped=skipped)
