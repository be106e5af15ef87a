"""Delivery of reminder emails from their Reminder rows (the row is the outbox entry).

A row is claimed with one conditional UPDATE (QUEUED/FAILED -> SENDING), so two deliverers never
both send it; the email goes out outside any lock; the row is then marked SENT (or FAILED, to be
retried by the next run). Only a process killed between the SMTP server's acceptance and the
SENT update leaves a row in SENDING; those are retried after ``STALE_SENDING`` with the same
Message-ID, so a receiving server can recognise the duplicate (documented: the one window where
delivery is at-least-once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q

from caseledger.collections.choices import Channel, ReminderStatus
from caseledger.collections.models import Reminder

MAX_ATTEMPTS = 5
STALE_SENDING = timedelta(minutes=15)


def reminder_deliver(*, reminder_id: int, now: datetime) -> bool:
    """Send one queued reminder email; True when this call sent it."""
    claimed = Reminder.objects.filter(
        pk=reminder_id,
        channel=Channel.EMAIL,
        status__in=[ReminderStatus.QUEUED, ReminderStatus.FAILED],
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=ReminderStatus.SENDING, attempts=F("attempts") + 1, sent_at=now)
    if not claimed:
        return False
    return _send_claimed(reminder_id=reminder_id, now=now)


def _send_claimed(*, reminder_id: int, now: datetime) -> bool:
    reminder = Reminder.objects.get(pk=reminder_id)
    message = EmailMessage(
        subject=reminder.subject,
        body=reminder.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.to_email],
        headers={"Message-ID": reminder.message_id},
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
        Reminder.objects.filter(pk=reminder_id).update(
            status=ReminderStatus.FAILED, last_error=str(exc)[:2000]
        )
        return False
    Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING).update(
        status=ReminderStatus.SENT, sent_at=now, last_error=""
    )
    return True


def reminders_deliver_pending(*, now: datetime, limit: int | None = None) -> int:
    """Deliver every queued or failed email (and reclaim stale SENDING rows); returns the count
    sent by this call."""
    with transaction.atomic():
        Reminder.objects.filter(
            channel=Channel.EMAIL, status=ReminderStatus.SENDING, sent_at__lt=now - STALE_SENDING
        ).update(status=ReminderStatus.FAILED, last_error="delivery interrupted; retrying")
    ids = list(
        Reminder.objects.filter(
            Q(status=ReminderStatus.QUEUED) | Q(status=ReminderStatus.FAILED),
            channel=Channel.EMAIL,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("id", flat=True)[: limit or None]
    )
    return sum(1 for pk in ids if reminder_deliver(reminder_id=pk, now=now))
