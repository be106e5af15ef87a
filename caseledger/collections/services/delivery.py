"""Delivery of reminder emails from their Reminder rows (the row is the outbox entry).

Rows are claimed with one conditional UPDATE (QUEUED/FAILED -> SENDING, stamped with this
deliverer's claim token), so two deliverers never both send one. A claimed batch goes out over
one SMTP connection, outside any lock, and is then marked SENT (or FAILED, to be retried by the
next run). A process killed between the claim and the SENT update leaves rows in SENDING:
whether those emails left is unknown, so they are not resent automatically (the same rule as
billing's invoice outbox) but listed on the collections queue, where a person can retry them.
Each email carries a stable Message-ID derived from its row."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q

from caseledger.collections.choices import Channel, ReminderStatus
from caseledger.collections.models import Reminder

MAX_ATTEMPTS = 5
BATCH = 100


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


def reminders_deliver(*, reminder_ids: list[int], now: datetime) -> int:
    """Send a batch of queued reminder emails over one connection; returns how many this call
    sent (rows another deliverer claimed first are left to it)."""
    import uuid

    from django.core.mail import get_connection

    if not reminder_ids:
        return 0
    token = uuid.uuid4().hex
    Reminder.objects.filter(
        pk__in=reminder_ids,
        channel=Channel.EMAIL,
        status__in=[ReminderStatus.QUEUED, ReminderStatus.FAILED],
        attempts__lt=MAX_ATTEMPTS,
    ).update(
        status=ReminderStatus.SENDING,
        attempts=F("attempts") + 1,
        sent_at=now,
        claim=token,
    )
    mine = list(
        Reminder.objects.filter(
            pk__in=reminder_ids, status=ReminderStatus.SENDING, claim=token
        ).order_by("id")
    )
    if not mine:
        return 0
    sent: list[int] = []
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - server down: every claimed row is retried later
        Reminder.objects.filter(pk__in=[r.pk for r in mine]).update(
            status=ReminderStatus.FAILED, last_error=str(exc)[:2000]
        )
        return 0
    try:
        for reminder in mine:
            message = EmailMessage(
                subject=reminder.subject,
                body=reminder.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[reminder.to_email],
                headers={"Message-ID": reminder.message_id},
                connection=connection,
            )
            try:
                message.send(fail_silently=False)
            except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
                Reminder.objects.filter(pk=reminder.pk).update(
                    status=ReminderStatus.FAILED, last_error=str(exc)[:2000]
                )
                continue
            sent.append(reminder.pk)
    finally:
        connection.close()
    Reminder.objects.filter(pk__in=sent, status=ReminderStatus.SENDING).update(
        status=ReminderStatus.SENT, sent_at=now, last_error=""
    )
    return len(sent)


def reminders_deliver_pending(*, now: datetime, limit: int | None = None) -> int:
    """Deliver every queued or failed email; returns the count sent by this call."""
    ids = list(
        Reminder.objects.filter(
            Q(status=ReminderStatus.QUEUED) | Q(status=ReminderStatus.FAILED),
            channel=Channel.EMAIL,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("id", flat=True)[: limit or None]
    )
    return sum(
        reminders_deliver(reminder_ids=ids[start : start + BATCH], now=now)
        for start in range(0, len(ids), BATCH)
    )


def reminder_retry(*, reminder_id: int, actor: object, now: datetime) -> bool:
    """A person retries an email left SENDING or FAILED (they checked it did not arrive)."""
    from caseledger.core import audit
    from caseledger.core.permissions import require

    require(actor, "collections.work")
    updated = Reminder.objects.filter(
        pk=reminder_id,
        channel=Channel.EMAIL,
        status__in=[ReminderStatus.SENDING, ReminderStatus.FAILED],
    ).update(status=ReminderStatus.QUEUED, attempts=0)
    if updated:
        audit.record(
            actor=actor,  # type: ignore[arg-type]
            action="collections.reminder_retry",
            at=now,
            obj=Reminder.objects.get(pk=reminder_id),
        )
        return reminder_deliver(reminder_id=reminder_id, now=now)
    return False
