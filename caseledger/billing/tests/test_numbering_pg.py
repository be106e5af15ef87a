"""Gapless numbering under concurrent issues (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from caseledger.billing import services
from caseledger.billing.models import Invoice, InvoiceCounter
from caseledger.billing.tests.factories import approved_draft, build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_issues_number_without_gap_or_duplicate(
    require_postgres: None, users: dict[str, Any], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    drafts = [approved_draft(world) for _ in range(8)]
    # one draft is sabotaged so its issue fails after taking the counter lock: no gap may result
    from caseledger.billing.choices import Payer

    Invoice.objects.filter(pk=drafts[3].pk).update(bill_to=Payer.BENEFICIARY)
    barrier = threading.Barrier(len(drafts))
    errors: list[str] = []

    def issue(invoice: Invoice) -> None:
        try:
            barrier.wait()
            services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
        except Exception as exc:  # collected; exactly the sabotaged one may fail
            errors.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == ["PayerRuleViolation"]
    numbers = sorted(n for n in Invoice.objects.values_list("number", flat=True) if n)
    assert numbers == [f"2026-{n:06d}" for n in range(1, 8)]
    assert InvoiceCounter.objects.get(year=2026).value == 7
