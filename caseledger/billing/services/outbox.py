"""Invoice email: signed, expiring payment links and the outbox that sends each email once.

The outbox row is written in the issuing transaction. Sending claims the row (PENDING/FAILED ->
SENDING) in its own short transaction, sends, then records SENT or FAILED with a backoff; a
second worker, a retry or a rerun of the task finds the row claimed or sent and does nothing, so
an email never goes out twice. A row left in SENDING (the process died mid-send) is shown on the
invoice page and is not resent automatically: whether it left is unknown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction

from caseledger.billing.choices import OutboxStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.locks import outbox_lock
from caseledger.billing.models import EmailOutbox, Invoice
from caseledger.billing.selectors import billing_settings_get
from caseledger.core import audit
from caseledger.core.links import absolute_reverse

log = logging.getLogger(__name__)

LINK_SALT = "caseledger.billing.payment-link"
MAX_ATTEMPTS = 6
LINK_INVALID = "link: this payment link is not valid"
LINK_EXPIRED = "link: this payment link has expired; ask the firm for a new one"
RETRY_REFUSED = "email: only a failed email can be retried (this one is {status})"


class _LinkSigner(signing.TimestampSigner):
    """A TimestampSigner whose timestamp is the given moment (services take ``now``)."""

    def __init__(self, at: datetime | None = None) -> None:
        super().__init__(salt=LINK_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def payment_link_token(*, invoice: Invoice, at: datetime) -> str:
    return _LinkSigner(at).sign(str(invoice.pk))


def payment_link_for(*, invoice: Invoice) -> str:
    """The absolute link printed on the PDF and in the email, signed at the issue time."""
    at = invoice.issued_at or invoice.created_at
    token = payment_link_token(invoice=invoice, at=at)
    return absolute_reverse("billing:public_invoice", token)


def payment_link_resolve(*, token: str) -> Invoice:
    """The invoice a link points to; BillingError when forged or older than the firm's limit
    (checked against the wall clock, as TimestampSigner does)."""
    max_age = timedelta(days=billing_settings_get().payment_link_days)
    try:
        pk = _LinkSigner().unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BillingError(LINK_EXPIRED, field="link") from exc
    except signing.BadSignature as exc:
        raise BillingError(LINK_INVALID, field="link") from exc
    invoice = Invoice.objects.filter(pk=int(pk)).select_related("client", "matter").first()
    if invoice is None or invoice.number is None:
        raise BillingError(LINK_INVALID, field="link")
    return invoice


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts`` + 1: 2, 4, 8, 16, 32 minutes."""
    return timedelta(minutes=2**attempts)


def outbox_schedule_send(*, outbox_id: int) -> None:
    """Send after the current transaction commits (through huey; immediate in tests)."""

    def enqueue() -> None:
        from caseledger.billing.tasks import outbox_send_task

        outbox_send_task(outbox_id)

    transaction.on_commit(enqueue)


def outbox_send(*, outbox_id: int, now: datetime) -> EmailOutbox:
    """Send one outbox email if it is due and not already claimed or sent."""
    with transaction.atomic():
        row = outbox_lock(outbox_id=outbox_id)
        due = (
            row.status in {OutboxStatus.PENDING, OutboxStatus.FAILED} and row.next_attempt_at <= now
        )
        if not due:
            return row
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.save(update_fields=["status", "attempts"])
    invoice = Invoice.objects.select_related("pdf").get(pk=row.invoice_id)
    message = EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=django_settings.DEFAULT_FROM_EMAIL,
        to=[row.to_email],
    )
    pdf = getattr(invoice, "pdf", None)
    if pdf is not None:
        message.attach(f"invoice-{invoice.number}.pdf", bytes(pdf.content), "application/pdf")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # any transport failure is recorded and retried
        log.warning("invoice email %s failed: %s", row.pk, exc)
        with transaction.atomic():
            row = outbox_lock(outbox_id=outbox_id)
            gave_up = row.attempts >= MAX_ATTEMPTS
            row.status = OutboxStatus.DEAD if gave_up else OutboxStatus.FAILED
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.next_attempt_at = now + backoff(row.attempts)
            row.save(update_fields=["status", "last_error", "next_attempt_at"])
            audit.record(
                actor=None,
                action="billing.email_failed",
                at=now,
                obj=invoice,
                after={"to": row.to_email, "attempt": row.attempts, "error": row.last_error},
                actor_label="mailer",
            )
        return row
    with transaction.atomic():
        row = outbox_lock(outbox_id=outbox_id)
        row.status = OutboxStatus.SENT
        row.sent_at = now
        row.last_error = ""
        row.save(update_fields=["status", "sent_at", "last_error"])
        audit.record(
            actor=None,
            action="billing.email_sent",
            at=now,
            obj=invoice,
            after={"to": row.to_email, "attempt": row.attempts},
            actor_label="mailer",
        )
    return row


def outbox_retry_due(*, now: datetime) -> int:
    """Send every failed email whose backoff has passed (the periodic task); returns how many
    were attempted."""
    ids = list(
        EmailOutbox.objects.filter(
            status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:200]
    )
    for outbox_id in ids:
        outbox_send(outbox_id=outbox_id, now=now)
    return len(ids)


def outbox_retry_now(*, outbox: EmailOutbox, actor: Any, now: datetime) -> EmailOutbox:
    """A person asks to retry a failed email now (never a sent or in-flight one)."""
    with transaction.atomic():
        row = outbox_lock(outbox_id=outbox.pk)
        if row.status not in {OutboxStatus.FAILED, OutboxStatus.DEAD}:
            raise BillingError(
                RETRY_REFUSED.format(status=row.get_status_display().lower()), field="email"
            )
        row.status = OutboxStatus.FAILED
        row.next_attempt_at = now
        row.save(update_fields=["status", "next_attempt_at"])
        audit.record(
            actor=actor,
            action="billing.email_retry_requested",
            at=now,
            obj=row.invoice,
            after={"to": row.to_email},
        )
    return outbox_send(outbox_id=row.pk, now=now)
