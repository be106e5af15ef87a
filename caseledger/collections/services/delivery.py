"""Reminder emails through the one outbox (``core.outbox``).

The run writes each email reminder's outbox message in the chunk's transaction, keyed
``collections.reminder:<reminder id>`` (so a step is mailed at most once), and after the commit
sends the chunk's messages itself, one claim at a time over one connection (the run is already
a worker; ``emails_sent`` counts them). A run killed while sending leaves at most the one message
in flight SENDING; the others stay PENDING and the next run (or the outbox's periodic job)
sends them. The message in flight is resent once its claim is stale, with the same Message-ID.

The Reminder row keeps the business status: QUEUED until the outbox records the message SENT
(``reminder_on_sent``), FAILED when the outbox gives up on it (``reminder_on_dead``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from caseledger.collections.choices import Channel, ReminderStatus
from caseledger.collections.models import Reminder
from caseledger.core import outbox
from caseledger.core.models import OutboxMessage

REMINDER_KIND = "collections.reminder"
RETRY_NO_MESSAGE = "reminder: this reminder has no email to send again"


def reminder_key(reminder_id: int) -> str:
    return f"{REMINDER_KIND}:{reminder_id}"


def reminder_messages(reminders: list[Reminder]) -> list[outbox.NewMessage]:
    """The outbox messages of saved email reminders (pk set)."""
    return [
        outbox.NewMessage(
            key=reminder_key(r.pk),
            kind=REMINDER_KIND,
            to=[r.to_email],
            subject=r.subject,
            body=r.body,
            related=r,
        )
        for r in reminders
        if r.channel == Channel.EMAIL and r.status == ReminderStatus.QUEUED
    ]


def reminder_on_sent(message: OutboxMessage, now: datetime) -> None:
    Reminder.objects.filter(pk=message.related_id or 0).exclude(status=ReminderStatus.SENT).update(
        status=ReminderStatus.SENT, sent_at=now
    )


def reminder_on_dead(message: OutboxMessage, now: datetime) -> None:
    Reminder.objects.filter(pk=message.related_id or 0, status=ReminderStatus.QUEUED).update(
        status=ReminderStatus.FAILED
    )


def reminders_deliver(*, message_ids: list[int], now: datetime) -> int:
    """Send the given reminder messages now (after their chunk committed); returns how many
    this call sent (a message another sender claimed first is left to it)."""
    return outbox.messages_send(ids=message_ids, now=now)


def reminders_deliver_pending(*, now: datetime) -> int:
    """Recover reminder messages whose sender died (claim older than the stale window), then
    send every reminder message that is due; returns the count sent by this call."""
    outbox.recover_stale(now=now, kind=REMINDER_KIND)
    return outbox.send_due(now=now, kind=REMINDER_KIND, limit=None)


def reminder_retry(*, reminder_id: int, actor: Any, now: datetime) -> OutboxMessage:
    """A person sends a failed reminder email again (from the collections queue); it leaves
    after commit. Returns its outbox message. Raises NotPermitted without collections.work,
    OutboxError unless the message failed."""
    message = OutboxMessage.objects.filter(key=reminder_key(reminder_id)).first()
    if message is None:
        raise outbox.OutboxError(RETRY_NO_MESSAGE, field="reminder")
    with transaction.atomic():
        outbox.message_retry(message=message, actor=actor, now=now, capability="collections.work")
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.FAILED).update(
            status=ReminderStatus.QUEUED
        )
    message.refresh_from_db()
    return message
