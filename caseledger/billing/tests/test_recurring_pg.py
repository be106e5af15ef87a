"""Recurring billing under concurrent runs (PostgreSQL, real threads): each period is drafted
once, whichever run gets the lock first."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection

from caseledger.billing import services
from caseledger.billing.choices import Cadence
from caseledger.billing.models import Invoice, InvoiceLine, ScheduleRun
from caseledger.billing.tests.factories import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_runs_draft_each_period_once(
    require_postgres: None, users: dict[str, Any], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    template = services.template_create(
        service=world.h1b_service,
        name="Monthly compliance retainer",
        lines=[
            {"description": "Immigration compliance retainer", "amount": None},
            {"description": "Public access file maintenance", "amount": "150.00"},
        ],
        actor=world.partner,
        now=world.now,
    )
    matters = [world.matter, *(world.new_matter() for _ in range(4))]
    for matter in matters:
        services.schedule_create(
            matter=matter,
            template=template,
            cadence=Cadence.MONTHLY,
            start_date=date(2026, 1, 1),
            actor=world.partner,
            now=world.now,
        )
    barrier = threading.Barrier(4)
    created: list[int] = []
    errors: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            created.append(services.billing_run(run_date=date(2026, 3, 31), now=world.now).created)
        except Exception as exc:  # collected: none may fail
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(created) == [0, 0, 0, len(matters)]
    assert Invoice.objects.count() == ScheduleRun.objects.count() == len(matters)
    assert InvoiceLine.objects.count() == 2 * len(matters)
    assert sorted(ScheduleRun.objects.values_list("invoice_id", flat=True)) == sorted(
        Invoice.objects.values_list("id", flat=True)
    )
