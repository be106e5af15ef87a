from __future__ import annotations

from datetime import date, timedelta

import pytest

from caseledger.core.demo_context import DemoContext

pytestmark = pytest.mark.django_db


def test_demo_seeds_credits_and_collections_once(users, now, settings):
    from caseledger.collections import demo as collections_demo
    from caseledger.collections.models import AtRiskMatter, CollectionHold, CollectionRun, Reminder
    from caseledger.credits import demo as credits_demo
    from caseledger.credits.models import CreditNote, WriteOff
    from caseledger.credits.tests import factories as F

    today = now.date()
    for days_overdue in (10, 35, 75, 120):
        F.invoice(
            matter_obj=F.matter(partner=users["PARTNER"]),
            cents=200_000,
            issued=today - timedelta(days=days_overdue + 30),
            due=today - timedelta(days=days_overdue),
        )
    paid = F.invoice(matter_obj=F.matter(), cents=150_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=paid, cents=150_000, day=date(2026, 9, 20))
    ctx = DemoContext(now=now, today=today, users={"billing": users["BILLING"]})
    for _ in range(2):
        credits_demo.seed(ctx)
        collections_demo.seed(ctx)
    assert CreditNote.objects.count() == 3
    assert CreditNote.objects.filter(status="PENDING_APPROVAL").count() == 1
    assert CreditNote.objects.filter(refund_cents__gt=0).count() == 1
    assert WriteOff.objects.count() == 1
    assert CollectionRun.objects.count() == 4
    assert Reminder.objects.exists()
    assert CollectionHold.objects.filter(status="ACTIVE").exists()
    assert AtRiskMatter.objects.count() == 1
