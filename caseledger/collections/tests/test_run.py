from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Max

from caseledger.collections import exceptions as E
from caseledger.collections.choices import (
    ActivityKind,
    Channel,
    HoldStatus,
    ReminderStatus,
    RunStatus,
)
from caseledger.collections.models import CollectionHold, CollectionRun, Reminder
from caseledger.collections.services import (
    activity_record,
    collection_hold_lift,
    collections_run,
    dispute_open,
    payment_plan_create,
)
from caseledger.collections.services import run as run_module
from caseledger.credits.tests import factories as F
from caseledger.ledger.tests.test_concurrency import run_together

DUE = date(2026, 8, 1)


def _invoices(n: int, *, partner=None, cents: int = 50_000, due: date = DUE):
    out = []
    for _ in range(n):
        m = F.matter(partner=partner)
        out.append(F.invoice(matter_obj=m, cents=cents, issued=due - timedelta(days=30), due=due))
    return out


@pytest.mark.django_db
def test_each_due_reminder_is_sent_once_and_a_rerun_sends_nothing(smtp, now):
    invoices = _invoices(3)
    F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 8, 5), due=date(2026, 8, 20))
    result = collections_run(run_date=DUE + timedelta(days=8), now=now)
    assert result.stats["scheduled"] == 3
    assert len(smtp.messages) == 3
    assert sorted(smtp.to()) == sorted(i.client.email for i in invoices)
    assert all(s.startswith("Reminder: invoice ") for s in smtp.subjects())
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}
    again = collections_run(run_date=DUE + timedelta(days=8), now=now)
    assert again.stats["scheduled"] == 0
    assert again.stats["already_done"] == 3
    next_day = collections_run(run_date=DUE + timedelta(days=9), now=now)
    assert next_day.stats["scheduled"] == 0
    assert len(smtp.messages) == 3
    assert CollectionRun.objects.filter(status=RunStatus.FINISHED).count() == 3


@pytest.mark.django_db(transaction=True)
def test_crash_midway_then_rerun_sends_every_reminder_exactly_once(smtp, now, monkeypatch):
    invoices = _invoices(5)
    monkeypatch.setattr(run_module, "CHUNK", 2)

    def crash_after_first_chunk(done: int) -> None:
        if done >= 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        collections_run(
            run_date=DUE + timedelta(days=8), now=now, after_chunk=crash_after_first_chunk
        )
    assert len(smtp.messages) == 2
    assert CollectionRun.objects.get().status == RunStatus.FAILED
    collections_run(run_date=DUE + timedelta(days=8), now=now)
    counts = Counter(smtp.to())
    assert counts == Counter({i.client.email: 1 for i in invoices})


@pytest.mark.django_db
def test_crash_after_commit_before_delivery_is_delivered_by_the_rerun(smtp, now):
    invoices = _invoices(2)
    collections_run(
        run_date=DUE + timedelta(days=8), now=now, deliver=False
    )  # rows committed, no email
    assert smtp.messages == []
    assert Reminder.objects.filter(status=ReminderStatus.QUEUED).count() == 2
    collections_run(run_date=DUE + timedelta(days=8), now=now)
    assert Counter(smtp.to()) == Counter({i.client.email: 1 for i in invoices})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(require_postgres, smtp, now, monkeypatch):
    invoices = _invoices(12)
    monkeypatch.setattr(run_module, "CHUNK", 3)
    results = run_together(
        [partial(collections_run, run_date=DUE + timedelta(days=8), now=now)] * 4
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Counter(smtp.to()) == Counter({i.client.email: 1 for i in invoices})
    assert Reminder.objects.count() == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_escalation_runs_hold_and_task_each_matter_once(
    require_postgres, smtp, users, now, monkeypatch
):
    from caseledger.matters.models import Task

    matters = [F.matter(partner=users["PARTNER"]) for _ in range(4)]
    invoices = [
        F.invoice(matter_obj=m, cents=50_000, issued=DUE - timedelta(days=30), due=DUE)
        for _ in range(2)
        for m in matters
    ]  # each matter's invoices fall in different chunks
    monkeypatch.setattr(run_module, "CHUNK", 3)
    results = run_together(
        [partial(collections_run, run_date=DUE + timedelta(days=61), now=now)] * 4
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Counter(smtp.to()) == Counter(i.client.email for i in invoices)
    assert Reminder.objects.count() == 2 * len(invoices)
    for m in matters:
        assert CollectionHold.objects.filter(matter=m).count() == 1
        assert sorted(Task.objects.filter(matter=m).values_list("system_key", flat=True)) == [
            f"collections:matter:{m.pk}:partner",
            f"collections:matter:{m.pk}:stage:escalation",
        ]
        m.refresh_from_db()
        assert m.hold_new_work is True


@pytest.mark.django_db
def test_formal_notice_adds_a_letter_and_a_collections_task(smtp, now):
    from caseledger.matters.models import Task

    (inv,) = _invoices(1)
    collections_run(run_date=DUE + timedelta(days=31), now=now)
    channels = set(Reminder.objects.filter(invoice=inv).values_list("channel", flat=True))
    assert channels == {Channel.EMAIL, Channel.LETTER, Channel.ACTIONS}
    assert smtp.subjects() == [f"Formal notice: invoice {inv.number} is 31 days past due"]
    task = Task.objects.get(system_key=f"collections:matter:{inv.matter_id}:stage:formal")
    assert task.matter_id == inv.matter_id


@pytest.mark.django_db
def test_escalation_holds_the_matter_until_the_balance_is_cleared(smtp, users, now):
    (inv,) = _invoices(1, partner=users["PARTNER"])
    collections_run(run_date=DUE + timedelta(days=61), now=now)
    inv.matter.refresh_from_db()
    assert inv.matter.hold_new_work is True
    hold = CollectionHold.objects.get(matter=inv.matter)
    assert hold.status == HoldStatus.ACTIVE
    F.pay(invoice_obj=inv, cents=50_000, day=DUE + timedelta(days=62))
    collections_run(run_date=DUE + timedelta(days=63), now=now)
    hold.refresh_from_db()
    inv.matter.refresh_from_db()
    assert hold.status == HoldStatus.LIFTED
    assert hold.lift_reason == "Balance cleared"
    assert inv.matter.hold_new_work is False


@pytest.mark.django_db
def test_partner_lifts_a_hold_only_with_a_reason(smtp, users, now):
    (inv,) = _invoices(1)
    collections_run(run_date=DUE + timedelta(days=61), now=now)
    hold = CollectionHold.objects.get(matter=inv.matter)
    with pytest.raises(E.CollectionsError) as info:
        collection_hold_lift(hold=hold, actor=users["PARTNER"], reason=" ", now=now)
    assert info.value.message == E.HOLD_LIFT_REASON_REQUIRED
    collection_hold_lift(hold=hold, actor=users["PARTNER"], reason="Agreed plan by phone", now=now)
    inv.matter.refresh_from_db()
    assert inv.matter.hold_new_work is False


@pytest.mark.django_db
def test_payment_since_last_run_suppresses_the_next_step(smtp, now):
    inv_paid, inv_other = _invoices(2)
    collections_run(run_date=DUE + timedelta(days=5), now=now)  # nothing due yet
    F.pay(invoice_obj=inv_paid, cents=10_000, day=DUE + timedelta(days=7))
    collections_run(run_date=DUE + timedelta(days=8), now=now)
    assert smtp.to() == [inv_other.client.email]
    reminder = Reminder.objects.get(invoice=inv_paid)
    assert reminder.status == ReminderStatus.SUPPRESSED
    assert reminder.note == "payment received since the last run"


@pytest.mark.django_db
def test_manual_reminder_suppresses_and_promise_defers(smtp, users, now):
    inv_manual, inv_promise = _invoices(2)
    run_day = DUE + timedelta(days=8)
    from datetime import UTC, datetime

    collections_run(run_date=DUE + timedelta(days=5), now=now)  # the previous run
    at = datetime(2026, 8, 8, 15, 0, tzinfo=UTC)
    activity_record(
        invoice=inv_manual, kind=ActivityKind.MANUAL_REMINDER, actor=users["BILLING"], now=at
    )
    activity_record(
        invoice=inv_promise,
        kind=ActivityKind.PROMISE_TO_PAY,
        promised_date=date(2026, 8, 15),
        actor=users["BILLING"],
        now=at,
    )
    result = collections_run(run_date=run_day, now=now)
    assert smtp.messages == []
    assert result.stats["suppressed"] == 1
    assert result.stats["deferred"] == 1
    assert not Reminder.objects.filter(invoice=inv_promise).exists()
    collections_run(run_date=date(2026, 8, 16), now=now)  # promise broken: the step happens
    assert smtp.to() == [inv_promise.client.email]


@pytest.mark.django_db
def test_exclusions_dispute_plan_and_trust(smtp, users, now):
    disputed, planned, trusted, normal = _invoices(4)
    dispute_open(invoice=disputed, reason="Fee not agreed", actor=users["BILLING"], now=now)
    payment_plan_create(
        invoice=planned,
        installment_cents=10_000,
        first_due_date=date(2026, 8, 20),
        interval_days=30,
        actor=users["BILLING"],
        now=now,
    )
    F.trust_deposit(matter_obj=trusted.matter, cents=60_000, day=date(2026, 9, 1))
    result = collections_run(run_date=DUE + timedelta(days=8), now=now)
    assert smtp.to() == [normal.client.email]
    assert result.stats["excluded"] == 3
    assert not Reminder.objects.exclude(invoice=normal).exists()


@pytest.mark.django_db
def test_paid_invoice_gets_no_reminder(smtp, now):
    (inv,) = _invoices(1)
    F.pay(invoice_obj=inv, cents=50_000, day=DUE)
    collections_run(run_date=DUE + timedelta(days=40), now=now)
    assert smtp.messages == []
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_dry_run_lists_steps_and_changes_nothing(smtp, now, capsys):
    _invoices(2)
    call_command("run_collections", "--date", "2026-08-09", "--dry-run")
    out = capsys.readouterr().out
    assert out.count("SEND") == 2
    assert "dry run for 2026-08-09: 2 steps, nothing changed" in out
    assert not Reminder.objects.exists()
    assert not CollectionRun.objects.exists()
    assert smtp.messages == []
    call_command("run_collections", "--date", "2026-08-09")
    assert len(smtp.messages) == 2


@pytest.mark.django_db
def test_a_bounded_preview_checks_only_the_first_open_invoices(now, monkeypatch):
    """The queue page's preview (``max_invoices``) reads the first open invoices by id and
    says it stopped early; unbounded, the same dry run lists every step and is complete."""
    monkeypatch.setattr(run_module, "CHUNK", 2)
    invoices = _invoices(5)
    run_date = DUE + timedelta(days=8)
    preview = collections_run(run_date=run_date, now=now, dry_run=True, max_invoices=3)
    assert [s.invoice_id for s in preview.steps] == [i.pk for i in invoices[:3]]
    assert preview.complete is False
    whole = collections_run(run_date=run_date, now=now, dry_run=True)
    assert [s.invoice_id for s in whole.steps] == [i.pk for i in invoices]
    assert whole.complete is True
    exact = collections_run(run_date=run_date, now=now, dry_run=True, max_steps=5)
    assert len(exact.steps) == 5
    assert not CollectionRun.objects.exists()


@pytest.mark.django_db
def test_bad_run_date_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"date: must be YYYY-MM-DD \(got '2026-13-01'\)"):
        call_command("run_collections", "--date", "2026-13-01")


@pytest.mark.django_db
def test_escalation_opens_one_task_and_one_hold_per_matter(smtp, users, now, monkeypatch):
    from caseledger.core.models import AuditEvent
    from caseledger.matters.models import Task

    monkeypatch.setattr(run_module, "CHUNK", 2)
    matter = F.matter(partner=users["PARTNER"])
    invoices = [
        F.invoice(matter_obj=matter, cents=50_000, issued=DUE - timedelta(days=30 + i), due=DUE)
        for i in range(3)
    ]
    events = AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0
    result = collections_run(run_date=DUE + timedelta(days=61), now=now)
    assert result.stats["scheduled"] == 6  # an email and the actions for each invoice
    assert len(smtp.messages) == 3
    assert CollectionHold.objects.filter(matter=matter).count() == 1
    tasks = {t.system_key: t for t in Task.objects.filter(matter=matter)}
    assert sorted(tasks) == [
        f"collections:matter:{matter.pk}:partner",
        f"collections:matter:{matter.pk}:stage:escalation",
    ]
    assert tasks[f"collections:matter:{matter.pk}:partner"].assignee == users["PARTNER"]
    for inv in invoices[:2]:  # the first chunk's invoices are listed on its tasks
        for task in tasks.values():
            assert inv.number in task.description
    assert invoices[2].number not in tasks[f"collections:matter:{matter.pk}:partner"].description
    matter.refresh_from_db()
    assert matter.hold_new_work is True
    actions = Counter(
        AuditEvent.objects.filter(pk__gt=events).values_list("action", flat=True).order_by()
    )
    # Per chunk: one reminders event; the first chunk also one tasks event, and the matter held
    # its own hold event (its audit trail shows it).
    assert actions["collections.reminders_scheduled"] == 2
    assert actions["matters.tasks_opened_by_system"] == 1
    assert actions["matters.hold_set"] == 1
    scheduled = AuditEvent.objects.filter(action="collections.reminders_scheduled").order_by("id")
    assert scheduled[0].after["holds"] == [CollectionHold.objects.get().pk]
    assert (scheduled[1].after["holds"], scheduled[1].after["tasks"]) == ([], [])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_default_policy_created_meanwhile_is_used_not_refused(require_postgres, now):
    """Two first runs on a new firm: run B finds no default policy, run A creates and commits it,
    then B tries to create it too. B must use A's policy, not fail (the save's own check refuses
    a second policy for all clients). The interleaving is forced: B pauses right after its read
    until A has committed."""
    import threading

    from django.db import connection

    from caseledger.collections.models import CollectionPolicy, PolicyStage
    from caseledger.collections.services import policy_default_ensure

    PolicyStage.objects.all().delete()
    CollectionPolicy.objects.all().delete()
    b_read, a_committed = threading.Event(), threading.Event()

    def pause_after_first_read(
        execute: Any, sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        if "collections_collectionpolicy" in sql and not b_read.is_set():
            b_read.set()
            assert a_committed.wait(timeout=30)
        return result

    def run_b() -> CollectionPolicy:
        with connection.execute_wrapper(pause_after_first_read):
            return policy_default_ensure(now=now)

    def run_a() -> CollectionPolicy:
        assert b_read.wait(timeout=30)
        try:
            return policy_default_ensure(now=now)
        finally:
            a_committed.set()

    b, a = run_together([run_b, run_a])
    assert not isinstance(b, Exception), b
    assert not isinstance(a, Exception), a
    assert a.pk == b.pk
    assert CollectionPolicy.objects.count() == 1
