"""The one outbox: at most once per key, after commit, claimed one message at a time, retried
with backoff, a dead sender's claim recovered and resent with the same Message-ID. Crash tests
count what lands at a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from caseledger.core import outbox
from caseledger.core.choices import OutboxStatus
from caseledger.core.models import AuditEvent, OutboxMessage
from caseledger.core.permissions import NotPermitted
from caseledger.core.tests.smtp import SimulatedCrash, crash_after, smtp_server

pytestmark = pytest.mark.django_db
OCTETS = "application/octet-stream"


def _enqueue(n: int, now: Any, *, prefix: str = "test.note", **extra: Any) -> list[OutboxMessage]:
    return [
        outbox.enqueue(
            key=f"{prefix}:{i}",
            kind="test.note",
            to=[f"client{i}@example.com"],
            subject=f"Note {i}",
            body=f"Hello {i}",
            now=now,
            dispatch=extra.get("dispatch", False),
        )
        for i in range(n)
    ]


def test_enqueue_keeps_the_first_row_per_key_and_derives_a_stable_message_id(now):
    first = outbox.enqueue(
        key="billing.invoice:7:issued", kind="k", to=["a@example.com"], subject="One",
        body="b", now=now, dispatch=False,
    )  # fmt: skip
    again = outbox.enqueue(
        key="billing.invoice:7:issued", kind="k", to=["b@example.com"], subject="Two",
        body="b", now=now + timedelta(hours=1), dispatch=False,
    )  # fmt: skip
    assert again.pk == first.pk
    assert (again.subject, again.to) == ("One", ["a@example.com"])
    assert OutboxMessage.objects.count() == 1
    assert first.message_id == outbox.message_id_for("billing.invoice:7:issued")
    assert re.fullmatch(r"<billing\.invoice\.7\.issued\.[0-9a-f]{12}@[\w.-]+>", first.message_id)
    # keys differing only in characters a Message-ID cannot hold stay apart
    assert outbox.message_id_for("a:b") != outbox.message_id_for("a.b")
    with pytest.raises(outbox.OutboxError, match="^key: a message needs a key"):
        outbox.enqueue(key="", kind="k", to=["a@example.com"], subject="s", body="b", now=now)


def test_a_rolled_back_transaction_sends_nothing(now, django_capture_on_commit_callbacks):
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            _enqueue(1, now, dispatch=True)
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError, match="rolled back"):
            enqueue_then_fail()
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_after_commit_the_queue_sends_it_once_with_html_and_a_stored_attachment(
    now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox.enqueue(
            key="report:weekly:2026-45", kind="reports.weekly", to=["partner@example.com"],
            subject="Weekly report", body="See attached.", html="<p>See attached.</p>",
            attachments=[outbox.Attachment("report.csv", b"a,b\n1,2\n", OCTETS)],
            now=now,
        )  # fmt: skip
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id
    assert message.alternatives[0][:2] == ("<p>See attached.</p>", "text/html")
    assert tuple(message.attachments[0]) == (
        "report.csv",
        b"a,b\n1,2\n",
        OCTETS,
    )
    assert AuditEvent.objects.filter(action="outbox.sent", object_id=str(row.pk)).count() == 1
    assert outbox.outbox_tick(now=now + timedelta(hours=1)) == {"recovered": 0, "sent": 0}
    assert len(mail.outbox) == 1


def test_backoff_doubles_from_two_minutes():
    assert [outbox.backoff(n) for n in range(1, 6)] == [
        timedelta(minutes=m) for m in (2, 4, 8, 16, 32)
    ]


def test_a_message_without_address_is_kept_dead_and_cannot_be_retried(now, users):
    row = outbox.enqueue(key="x:1", kind="k", to=["  "], subject="s", body="b", now=now)
    assert (row.status, row.last_error) == (OutboxStatus.DEAD, outbox.NO_RECIPIENT)
    with pytest.raises(outbox.OutboxError, match="^to: the message has no address"):
        outbox.message_retry(message=row, actor=users["ADMIN"], now=now)


def test_an_unknown_attachment_renderer_fails_the_message_not_the_sender(now):
    row = outbox.enqueue(
        key="x:2", kind="k", to=["a@example.com"], subject="s", body="b", now=now,
        attachments=[outbox.AttachmentSpec("nobody.renders_this")], dispatch=False,
    )  # fmt: skip
    assert outbox.send_due(now=now) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert (
        row.last_error
        == "OutboxError: attachments: no attachment renderer named 'nobody.renders_this'"
    )


def test_a_permanent_refusal_gives_up_at_once(settings, now):
    with smtp_server(settings) as (inbox, _):
        inbox.refuse.add("gone@example.com")
        row = outbox.enqueue(
            key="x:3", kind="k", to=["gone@example.com"], subject="s", body="b", now=now,
            dispatch=False,
        )  # fmt: skip
        assert outbox.send_due(now=now) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 1)
    assert row.last_error.startswith("SMTPRecipientsRefused")
    assert inbox.messages == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("when", "resent"), [("before_send", 0), ("after_accept", 1)])
def test_a_sender_killed_mid_send_then_recovered_delivers_every_message_once(
    settings, now, when, resent
):
    with smtp_server(settings) as (inbox, _):
        rows = _enqueue(10, now)
        with crash_after(settings, 4, when), pytest.raises(SimulatedCrash):
            outbox.send_due(now=now)
        # Four recorded sent, one claim left by the dead sender, five untouched.
        statuses = list(OutboxMessage.objects.order_by("id").values_list("status", flat=True))
        assert statuses == ["SENT"] * 4 + ["SENDING"] + ["PENDING"] * 5
        # The next pass (the periodic job, a rerun) sends the rest; the claim is not stale yet.
        assert outbox.outbox_tick(now=now + timedelta(minutes=1)) == {"recovered": 0, "sent": 5}
        # After the stale window the claim is recovered and the message sent again.
        assert outbox.outbox_tick(now=now + timedelta(minutes=16)) == {"recovered": 1, "sent": 1}
        assert outbox.outbox_tick(now=now + timedelta(minutes=30)) == {"recovered": 0, "sent": 0}
    counts = inbox.counts([r.message_id for r in rows])
    assert counts == {
        "due": 10,
        "delivered": 10,
        "missing": 0,
        "resent_same_message_id": resent,
        "unexpected": 0,
    }
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    recovered = OutboxMessage.objects.get(key="test.note:4")
    assert recovered.attempts == 2
    assert AuditEvent.objects.filter(action="outbox.claim_recovered").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_claiming_the_same_rows_send_each_message_once(
    require_postgres, settings, now
):
    from caseledger.ledger.tests.test_concurrency import run_together

    with smtp_server(settings) as (inbox, _):
        rows = _enqueue(40, now)
        ids = [r.pk for r in rows]
        senders: list[Callable[[], Any]] = [partial(outbox.messages_send, ids=ids, now=now)] * 3
        senders.append(partial(outbox.messages_send, ids=ids[::-1], now=now))
        senders.append(partial(outbox.send_due, now=now))
        results = run_together(senders)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(results) == 40
    counts = inbox.counts([r.message_id for r in rows])
    assert counts == {
        "due": 40,
        "delivered": 40,
        "missing": 0,
        "resent_same_message_id": 0,
        "unexpected": 0,
    }


def test_the_outbox_page_lists_messages_and_a_failed_one_can_be_sent_again(
    login, users, now, django_capture_on_commit_callbacks
):
    sent = outbox.enqueue(
        key="p:1", kind="test.note", to=["a@example.com"], subject="All good",
        body="secret link", now=now, dispatch=False,
    )  # fmt: skip
    outbox.send_due(now=now)
    dead = outbox.enqueue(
        key="p:2", kind="test.note", to=["b@example.com"], subject="Bounced twice",
        body="secret link", now=now, dispatch=False,
    )  # fmt: skip
    OutboxMessage.objects.filter(pk=dead.pk).update(
        status=OutboxStatus.DEAD, attempts=6, last_error="SMTPServerDisconnected: gone"
    )
    client = login(users["BILLING"])
    page = client.get("/outbox/").content.decode()
    assert "All good" in page
    assert "Bounced twice" in page
    assert "SMTPServerDisconnected: gone" in page
    assert "secret link" not in page  # bodies (reset links) are not shown
    assert page.count("Send again") == 1
    assert "Bounced twice" not in client.get("/outbox/?status=SENT").content.decode()
    found = client.get("/outbox/?search=b%40example.com").content.decode()
    assert "Bounced twice" in found
    assert "All good" not in found
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/outbox/{dead.pk}/retry/", {"next": "/outbox/?status=DEAD"})
    assert r.status_code == 302
    assert r["Location"] == "/outbox/?status=DEAD"
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (OutboxStatus.SENT, 7)
    assert [m.subject for m in mail.outbox] == ["All good", "Bounced twice"]
    r = client.post(f"/outbox/{sent.pk}/retry/")
    assert r.status_code == 302
    # a partner sees the page but may not resend
    partner = login(users["PARTNER"])
    assert "Send again" not in partner.get("/outbox/").content.decode()
    with pytest.raises(NotPermitted):
        outbox.message_retry(message=dead, actor=users["PARTNER"], now=now)
