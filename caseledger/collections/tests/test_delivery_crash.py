"""run_collections killed while it sends, then rerun: every due reminder is delivered, none
twice, except the one message in flight at the kill, resent with its one Message-ID. Counted
where the messages land: a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.models import F as DbF

from caseledger.collections.choices import Channel, ReminderStatus, RunStatus
from caseledger.collections.models import CollectionRun, Reminder
from caseledger.collections.services import collections_run
from caseledger.collections.services import run as run_module
from caseledger.collections.services.delivery import REMINDER_KIND
from caseledger.core.choices import OutboxStatus
from caseledger.core.models import OutboxMessage
from caseledger.core.tests.smtp import SimulatedCrash, crash_after, smtp_server
from caseledger.credits.tests import factories as F

ROOT = Path(__file__).resolve().parents[3]
DUE = date(2026, 8, 1)
RUN_DATE = DUE + timedelta(days=8)


def _invoices(n: int) -> list[Any]:
    return [
        F.invoice(matter_obj=F.matter(), cents=50_000, issued=DUE - timedelta(days=30), due=DUE)
        for _ in range(n)
    ]


def _due_message_ids() -> list[str]:
    return list(
        OutboxMessage.objects.filter(kind=REMINDER_KIND).values_list("message_id", flat=True)
    )


def _all_delivered(inbox: Any, invoices: list[Any], resent: int) -> None:
    assert OutboxMessage.objects.filter(kind=REMINDER_KIND).count() == len(invoices)
    assert inbox.counts(_due_message_ids()) == {
        "due": len(invoices),
        "delivered": len(invoices),
        "missing": 0,
        "resent_same_message_id": resent,
        "unexpected": 0,
    }
    assert sorted(set(inbox.to())) == sorted(i.client.email for i in invoices)
    emails = Reminder.objects.filter(channel=Channel.EMAIL)
    assert set(emails.values_list("status", flat=True)) == {ReminderStatus.SENT}
    assert set(
        OutboxMessage.objects.filter(kind=REMINDER_KIND).values_list("status", flat=True)
    ) == {OutboxStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_run_killed_mid_send_then_rerun_delivers_every_reminder_once(settings, now, monkeypatch):
    monkeypatch.setattr(run_module, "CHUNK", 4)
    with smtp_server(settings) as (inbox, _):
        invoices = _invoices(8)
        # Killed just after the server accepted the 3rd email of the first chunk.
        with crash_after(settings, 2, "after_accept"), pytest.raises(SimulatedCrash):
            collections_run(run_date=RUN_DATE, now=now)
        assert CollectionRun.objects.get().status == RunStatus.FAILED
        assert len(inbox.messages) == 3
        statuses = OutboxMessage.objects.order_by("id").values_list("status", flat=True)
        assert list(statuses) == ["SENT", "SENT", "SENDING", "PENDING"]  # chunk 2 never ran
        # A rerun right away: the rest of chunk 1 and all of chunk 2; the claim is not stale.
        again = collections_run(run_date=RUN_DATE, now=now + timedelta(minutes=1))
        assert again.stats["emails_sent"] == 5
        assert len(inbox.messages) == 8
        # Past the stale window, a rerun (or the outbox's periodic job) resends the 3rd email.
        later = collections_run(run_date=RUN_DATE, now=now + timedelta(minutes=16))
        assert later.stats["emails_sent"] == 1
        collections_run(run_date=RUN_DATE, now=now + timedelta(minutes=30))
    _all_delivered(inbox, invoices, resent=1)


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_run_collections_sigkilled_mid_send_then_rerun_delivers_every_reminder_once(
    require_postgres, settings
):
    db = connection.settings_dict
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with smtp_server(settings) as (inbox, port):
        invoices = _invoices(8)
        env = {
            "DATABASE_URL": url,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "CASELEDGER_TESTING": "1",
        }
        args = ["run_collections", "--date", RUN_DATE.isoformat()]
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        inbox.kill_pid, inbox.kill_at = proc.pid, 3  # SIGKILL as the 3rd email lands
        assert proc.wait(timeout=300) == -9
        inbox.kill_pid = None
        assert len(inbox.messages) == 3
        statuses = OutboxMessage.objects.order_by("id").values_list("status", flat=True)
        assert list(statuses) == ["SENT", "SENT", "SENDING"] + ["PENDING"] * 5
        # Rerun at once: the five never claimed go; the one in flight waits for its claim to age.
        first = _manage(args, env)
        assert first.returncode == 0, first.stderr
        assert "emails_sent=5" in first.stdout
        # Twenty minutes later (the claim aged): the rerun recovers it and sends it again.
        OutboxMessage.objects.filter(status=OutboxStatus.SENDING).update(
            claimed_at=DbF("claimed_at") - timedelta(minutes=20)
        )
        second = _manage(args, env)
        assert second.returncode == 0, second.stderr
        assert "emails_sent=1" in second.stdout
    _all_delivered(inbox, invoices, resent=1)
