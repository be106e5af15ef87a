"""Scheduled reports: the due period per cadence, exactly once per subscriber and period,
delivered at a real SMTP server through the outbox with the PDF attached."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.core import outbox
from caseledger.core.models import AuditEvent, OutboxMessage
from caseledger.core.tests.smtp import smtp_server
from caseledger.reports import scheduled, services
from caseledger.reports.exceptions import ReportsError
from caseledger.reports.metrics import Period
from caseledger.reports.models import ReportDelivery
from caseledger.reports.tests.fixtures import book

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cadence", "today", "period"),
    [
        ("WEEKLY", date(2026, 11, 30), Period(date(2026, 11, 23), date(2026, 11, 29))),  # Monday
        ("WEEKLY", date(2026, 12, 2), Period(date(2026, 11, 23), date(2026, 11, 29))),
        ("MONTHLY", date(2026, 12, 1), Period(date(2026, 11, 1), date(2026, 11, 30))),
        ("MONTHLY", date(2026, 1, 15), Period(date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_the_period_is_the_last_full_week_or_month(
    cadence: str, today: date, period: Period
) -> None:
    assert scheduled.period_for(cadence, today) == period


def test_runs_twice_sends_once_at_a_real_smtp_server(settings: Any, users: dict[str, Any]) -> None:
    book(users)
    partner = users["PARTNER"]
    services.subscription_set(actor=partner, cadence="MONTHLY", active=True, now=NOW)
    with smtp_server(settings) as (inbox, _):
        first = scheduled.reports_send(today=date(2026, 12, 1), now=NOW)
        outbox.send_due(now=NOW)
        second = scheduled.reports_send(today=date(2026, 12, 1), now=NOW)
        outbox.send_due(now=NOW)
    assert (first.sent, first.already) == (1, 0)
    assert (second.sent, second.already) == (0, 1)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == partner.email
    assert message["Subject"] == "Monthly KPI report: Nov 01 to Nov 30, 2026"
    parts = {p.get_content_type(): p for p in message.walk()}
    assert parts["application/pdf"].get_filename() == "kpi-report-2026-11-01-2026-11-30.pdf"
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "What moved:" in body
    delivery = ReportDelivery.objects.get()
    assert OutboxMessage.objects.get(pk=delivery.message_id).status == "SENT"


def test_a_stopped_subscription_and_a_user_without_email_get_nothing(
    users: dict[str, Any],
) -> None:
    partner, billing = users["PARTNER"], users["BILLING"]
    services.subscription_set(actor=partner, cadence="WEEKLY", active=True, now=NOW)
    services.subscription_set(actor=partner, cadence="WEEKLY", active=False, now=NOW)
    services.subscription_set(actor=billing, cadence="MONTHLY", active=True, now=NOW)
    type(billing).objects.filter(pk=billing.pk).update(email="")
    result = scheduled.reports_send(today=date(2026, 12, 1), now=NOW)
    assert (result.sent, result.skipped) == (0, 1)
    assert not OutboxMessage.objects.filter(kind=scheduled.REPORT_KIND).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="reports.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["reports.subscribed", "reports.unsubscribed", "reports.subscribed"]


def test_subscribing_needs_an_email_address(users: dict[str, Any]) -> None:
    partner = users["PARTNER"]
    type(partner).objects.filter(pk=partner.pk).update(email="")
    partner.refresh_from_db()
    with pytest.raises(ReportsError, match="cadence: your profile has no email address"):
        services.subscription_set(actor=partner, cadence="WEEKLY", active=True, now=NOW)


def test_send_reports_command_prints_one_json_line(users: dict[str, Any]) -> None:
    services.subscription_set(actor=users["PARTNER"], cadence="WEEKLY", active=True, now=NOW)
    out = io.StringIO()
    call_command("send_reports", "--date", "2026-11-30", stdout=out)
    assert json.loads(out.getvalue()) == {
        "date": "2026-11-30",
        "sent": 1,
        "already": 0,
        "skipped": 0,
    }
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--date: 0001-01-01 is outside"):
        call_command("send_reports", "--date", "0001-01-01", stdout=io.StringIO())


def test_the_subscription_page(users: dict[str, Any], login: Callable[..., Any]) -> None:
    client = login(users["BILLING"])
    response = client.post("/reports/subscriptions/", {"cadence": "WEEKLY", "active": "1"})
    assert response.status_code == 302
    page = client.get("/reports/subscriptions/").content.decode()
    assert "Subscribed" in page
    bad = client.post("/reports/subscriptions/", {"cadence": "DAILY", "active": "1"})
    assert "Select a valid choice" in bad.content.decode()
