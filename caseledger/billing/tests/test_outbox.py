"""Invoice email: written in the issuing transaction, retried with backoff, never sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from caseledger.billing import services
from caseledger.billing.choices import OutboxStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import EmailOutbox
from caseledger.billing.tests import failing_mail
from caseledger.billing.tests.factories import issued_invoice
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(settings: Any) -> Any:
    settings.EMAIL_BACKEND = "caseledger.billing.tests.failing_mail.FlakyBackend"
    failing_mail.FAIL["on"] = True
    yield failing_mail.FAIL
    failing_mail.FAIL["on"] = False


def test_failure_is_recorded_retried_with_backoff_and_sent_once(world: Any, flaky: Any) -> None:
    invoice = issued_invoice(world)  # on_commit does not run here: the row waits, PENDING
    row = EmailOutbox.objects.get(invoice=invoice)
    assert row.status == OutboxStatus.PENDING
    now = world.now
    failed = services.outbox_send(outbox_id=row.pk, now=now)
    assert failed.status == OutboxStatus.FAILED
    assert failed.attempts == 1
    assert failed.last_error == "ConnectionRefusedError: SMTP server refused the connection"
    assert failed.next_attempt_at == now + timedelta(minutes=2)
    assert AuditEvent.objects.filter(action="billing.email_failed").count() == 1
    # not due yet: nothing happens
    assert services.outbox_retry_due(now=now + timedelta(minutes=1)) == 0
    flaky["on"] = False
    assert services.outbox_retry_due(now=now + timedelta(minutes=3)) == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2
    assert len(mail.outbox) == 1
    # a late duplicate task, a rerun of the periodic job: nothing more is sent
    services.outbox_send(outbox_id=row.pk, now=now + timedelta(hours=1))
    services.outbox_retry_due(now=now + timedelta(hours=1))
    assert len(mail.outbox) == 1
    with pytest.raises(BillingError) as exc:
        services.outbox_retry_now(outbox=row, actor=world.billing, now=now)
    assert exc.value.message == "email: only a failed email can be retried (this one is sent)"


def test_gives_up_after_six_attempts_and_a_person_can_retry(world: Any, flaky: Any) -> None:
    invoice = issued_invoice(world)
    row = EmailOutbox.objects.get(invoice=invoice)
    at = world.now
    for _ in range(6):
        row = services.outbox_send(outbox_id=row.pk, now=at)
        at = row.next_attempt_at
    assert row.status == OutboxStatus.DEAD
    assert services.outbox_retry_due(now=at + timedelta(days=1)) == 0
    flaky["on"] = False
    row = services.outbox_retry_now(outbox=row, actor=world.billing, now=at)
    assert row.status == OutboxStatus.SENT
    assert len(mail.outbox) == 1


def test_an_email_claimed_by_another_worker_is_not_sent_again(world: Any, settings: Any) -> None:
    invoice = issued_invoice(world)
    row = EmailOutbox.objects.get(invoice=invoice)
    EmailOutbox.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING, attempts=1)
    services.outbox_send(outbox_id=row.pk, now=world.now)
    assert len(mail.outbox) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING
