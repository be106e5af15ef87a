"""The benchmark generator's firm (staff, clients, matters at stages of their own case type,
issued and partly paid invoices with their postings, and opting in trust, time entries and
tasks) passes every cross-check of ``manage.py verify``, on SQLite and (with DATABASE_URL) on
PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from bench.generate import DEFAULT_RATES, generate_firm, generate_work
from bench.receivables import generate_receivables
from bench.trust_load import generate_trust

pytestmark = pytest.mark.django_db


def test_a_generated_firm_passes_verify():
    from caseledger.ledger.services import chart_ensure
    from conftest import NOW

    chart_ensure(now=NOW)
    firm = generate_firm(matters=12, seed=3)
    generate_receivables(
        invoices=40, matter_ids=firm.matter_ids, matter_client=firm.matter_client, paid_share=0.5
    )
    _assert_verify_passes()


def _assert_verify_passes() -> None:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r for r in rows if "problem" in r] == []
    assert code == 0
    # Every check of settings.VERIFY_CHECKS ran and found nothing.
    assert rows[-1] == {"verify": "ok", "checks": len(settings.VERIFY_CHECKS), "problems": 0}


def test_generated_matters_fit_their_case_type_and_stand_at_one_of_its_stages():
    from caseledger.matters.models import Matter, StageEvent

    firm = generate_firm(matters=60, seed=5)
    matters = list(
        Matter.objects.filter(pk__in=firm.matter_ids).select_related(
            "client", "case_type", "current_stage"
        )
    )
    for m in matters:
        assert m.current_stage.case_type_id == m.case_type_id
        assert not m.current_stage.closes_matter
        assert m.status == "OPEN"
        if m.client.kind == "PERSON":
            assert not m.case_type.employment_based
            assert m.beneficiary_id is None
        if m.case_type.beneficiary_rule == "PETITION":
            assert m.beneficiary is not None
            assert m.beneficiary.client_id == m.client_id
        # The stage history: opened at the first stage, then forward one stage at a time to
        # the current one, each event from the stage before.
        events = list(StageEvent.objects.filter(matter=m).order_by("at", "id"))
        template = list(m.case_type.stages.order_by("position", "id"))
        assert events[0].stage == template[0]
        assert events[0].from_stage is None
        assert events[-1].stage == m.current_stage
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_stage == before.stage
            assert after.stage.position > before.stage.position
            assert after.at > before.at
            passed = [
                s for s in template if before.stage.position < s.position < after.stage.position
            ]
            assert all(s.optional for s in passed)
    # Spread: not every matter at its first stage, and more than the H-1B cap type.
    assert len({m.current_stage.position for m in matters}) > 2
    assert len({m.case_type.code for m in matters}) > 4


def test_a_generated_firm_with_trust_time_and_tasks_passes_verify():
    from caseledger.billing.models import TimeEntry
    from caseledger.ledger.services import chart_ensure
    from caseledger.matters.models import Task
    from caseledger.payments.models import InvoiceSettlement, Payment, PaymentAllocation
    from caseledger.trust.models import Disbursement, TrustDeposit, TrustTransfer
    from conftest import NOW

    chart_ensure(now=NOW)
    firm = generate_firm(matters=30, seed=3)
    receivables = generate_receivables(
        invoices=60,
        matter_ids=firm.matter_ids,
        matter_client=firm.matter_client,
        paid_share=0.3,
        payment_records=True,
    )
    trust = generate_trust(firm, share=0.5, seed=4)
    work = generate_work(firm, share=0.5, seed=6)

    # Each receipt is a recorded payment allocated to its invoice, as payment_record writes it.
    assert Payment.objects.filter(status="RECEIVED").count() == receivables.n_payments > 0
    assert PaymentAllocation.objects.count() == receivables.n_payments
    assert trust.deposits == TrustDeposit.objects.count() > 0
    assert trust.disbursements == Disbursement.objects.filter(status="POSTED").count() > 0
    assert trust.transfers == TrustTransfer.objects.count() > 0
    assert 0 < trust.out_cents < trust.deposited_cents
    # The low-balance check ran where money left: its task on the matters that ended low.
    low = Task.objects.filter(system_key__startswith="trust.low_balance:", status="OPEN")
    assert set(low.values_list("matter_id", flat=True)) == {
        f.matter.pk for f in _trust_figures(trust.matter_ids) if f.is_low
    }
    # Transfers are counted in their invoices' settlements, never past the invoice total.
    assert not InvoiceSettlement.objects.filter(balance_due_cents__lt=0).exists()
    assert len(work.time_entry_ids) == TimeEntry.objects.filter(invoice_line=None).count() > 0
    assert {t.status for t in Task.objects.filter(pk__in=work.task_ids)} == {"OPEN", "DONE"}
    # At the timekeepers' rates (the defaults set by role), in the firm's increment.
    for entry in TimeEntry.objects.select_related("timekeeper"):
        assert entry.rate_cents == DEFAULT_RATES[entry.timekeeper.role]
        assert entry.minutes % 6 == 0
    _assert_verify_passes()


def _trust_figures(matter_ids: list[int]) -> list[Any]:
    from caseledger.matters.models import Matter
    from caseledger.trust import selectors

    return [
        selectors.trust_position(m, as_of=date(2026, 11, 2))
        for m in Matter.objects.filter(pk__in=matter_ids)
    ]
