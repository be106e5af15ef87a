"""Invoice email through core.outbox: written in the issuing transaction, retried with backoff,
never sent twice, its PDF attached at send time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from caseledger.billing import services
from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
from caseledger.billing.tests import failing_mail
from caseledger.billing.tests.factories import issued_invoice
from caseledger.core import outbox
from caseledger.core.choices import OutboxStatus
from caseledger.core.models import AuditEvent, OutboxMessage
from caseledger.core.permissions import NotPermitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(settings: Any) -> Any:
    settings.EMAIL_BACKEND = "caseledger.billing.tests.failing_mail.FlakyBackend"
    failing_mail.FAIL["on"] = True
    yield failing_mail.FAIL
    failing_mail.FAIL["on"] = False


def _row(invoice: Any) -> OutboxMessage:
    return OutboxMessage.objects.get(key=f"billing.invoice:{invoice.pk}:issued")


def test_failure_is_recorded_retried_with_backoff_and_sent_once(world: Any, flaky: Any) -> None:
    invoice = issued_invoice(world)  # on_commit does not run here: the row waits, PENDING
    row = _row(invoice)
    assert (row.status, row.kind, row.related_id) == (
        OutboxStatus.PENDING,
        INVOICE_ISSUED_KIND,
        invoice.pk,
    )
    now = world.now
    assert outbox.message_send(message_id=row.pk, now=now) is False
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1
    assert row.last_error == "ConnectionRefusedError: SMTP server refused the connection"
    assert row.next_attempt_at == now + timedelta(minutes=2)
    assert AuditEvent.objects.filter(action="outbox.failed").count() == 1
    # not due yet: nothing happens
    assert outbox.send_due(now=now + timedelta(minutes=1)) == 0
    flaky["on"] = False
    assert outbox.send_due(now=now + timedelta(minutes=3)) == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2
    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id
    assert message.attachments[0][0] == f"invoice-{invoice.number}.pdf"
    assert message.attachments[0][1].startswith(b"%PDF")
    # a late duplicate task, a rerun of the periodic job: nothing more is sent
    assert outbox.message_send(message_id=row.pk, now=now + timedelta(hours=1)) is False
    assert outbox.outbox_tick(now=now + timedelta(hours=1)) == {"recovered": 0, "sent": 0}
    assert len(mail.outbox) == 1
    with pytest.raises(outbox.OutboxError) as exc:
        services.invoice_email_retry(message=row, actor=world.billing, now=now)
    assert (
        exc.value.message == "message: only a failed message can be sent again (this one is sent)"
    )


def test_gives_up_after_six_attempts_and_a_person_can_retry(
    world: Any, flaky: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invoice = issued_invoice(world)
    row = _row(invoice)
    at = world.now
    for _ in range(6):
        outbox.message_send(message_id=row.pk, now=at)
        row.refresh_from_db()
        at = row.next_attempt_at
    assert row.status == OutboxStatus.DEAD
    assert AuditEvent.objects.filter(action="outbox.gave_up").count() == 1
    assert outbox.send_due(now=at + timedelta(days=1)) == 0
    flaky["on"] = False
    with pytest.raises(NotPermitted):
        services.invoice_email_retry(message=row, actor=world.paralegal, now=at)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_email_retry(message=row, actor=world.billing, now=at)
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert len(mail.outbox) == 1


def test_an_email_claimed_by_another_worker_is_not_sent_again(world: Any) -> None:
    invoice = issued_invoice(world)
    row = _row(invoice)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING, attempts=1, claimed_at=world.now, claim_token="other"
    )
    assert outbox.message_send(message_id=row.pk, now=world.now) is False
    assert outbox.outbox_tick(now=world.now + timedelta(minutes=14))["sent"] == 0
    assert len(mail.outbox) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING
