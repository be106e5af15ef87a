"""The outbox: the one way a message leaves CaseLedger (invoice emails, collection reminders,
trust receipts and requests, invitations, password resets, and reports to come).

How a message travels (docs/adr/008-outbox.md):

1. ``enqueue`` writes one ``core.OutboxMessage`` row inside the caller's business transaction.
   Its ``key`` is unique ("billing.invoice:42:issued"): enqueueing a key again keeps the first
   row, so a message is sent at most once per key. A rolled-back transaction sends nothing.
2. After commit (``transaction.on_commit``) a huey task sends the new rows. Each message is
   claimed on its own with one conditional UPDATE (PENDING/FAILED and due -> SENDING, with a
   fresh claim token), sent, then marked SENT; two senders racing for a row never both send it.
3. A failure marks the row FAILED with ``next_attempt_at`` = now + 2, 4, 8, 16, 32 minutes; the
   periodic job sends what is due; after ``MAX_ATTEMPTS`` the row is DEAD (listed on the staff
   outbox page, where a person with ``outbox.retry`` can send it again).
4. A process that dies between claim and record leaves one row SENDING. The periodic job puts a
   claim older than ``stale_after()`` back to FAILED, so it is sent again. Whether the first copy
   left is unknowable (the server may have accepted it just before the crash), so every message
   carries a Message-ID derived from its key: a resend has the same Message-ID and mail clients
   and servers recognise it as the same message. This is the one window where a message can
   arrive twice; it holds at most one message per crashed sender.

Attachments are rendered at send time from the business record (``AttachmentSpec`` naming a
renderer an app registered, e.g. billing's stored invoice PDF), or stored on the row as bytes
(``Attachment``) when there is no record to render from.

Apps learn of an outcome through listeners registered per kind (``register_sent_listener``,
``register_dead_listener``), called in the transaction that records it: collections marks its
reminder SENT this way.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import smtplib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import F

from caseledger.core import audit
from caseledger.core.choices import OutboxStatus
from caseledger.core.exceptions import ApplicationError
from caseledger.core.hooks import Listeners
from caseledger.core.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH = 200  # messages one periodic pass sends
DEFAULT_STALE_MINUTES = 15
DEFAULT_MESSAGE_ID_DOMAIN = "caseledger.host"

KEY_REQUIRED = "key: a message needs a key (what makes it unique)"
KEY_TOO_LONG = "key: at most 200 characters (got {length})"
NO_RECIPIENT = "to: the message has no address to send to"
RENDERER_UNKNOWN = "attachments: no attachment renderer named {name!r}"
RETRY_REFUSED = "message: only a failed message can be sent again (this one is {status})"
STALE_NOTE = (
    "claim went stale (SENDING since {claimed_at:%Y-%m-%d %H:%M} UTC): the sender died; sent "
    "again with the same Message-ID"
)

FAILED_STATUSES = frozenset({OutboxStatus.FAILED, OutboxStatus.DEAD})
_DUE_STATUSES = [OutboxStatus.PENDING, OutboxStatus.FAILED]


class OutboxError(ApplicationError):
    pass


# --- attachments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """Bytes stored on the row (use when there is no business record to render from)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class AttachmentSpec:
    """An attachment rendered at send time by the renderer registered under ``renderer``,
    called with ``**args`` (JSON values); the renderer returns an Attachment, or None to skip."""

    renderer: str
    args: dict[str, Any] = field(default_factory=dict)


AttachmentRenderer = Callable[..., Attachment | None]
_renderers: dict[str, AttachmentRenderer] = {}


def register_attachment_renderer(name: str) -> Callable[[AttachmentRenderer], AttachmentRenderer]:
    """Decorator: ``@register_attachment_renderer("billing.invoice_pdf")``."""

    def register(fn: AttachmentRenderer) -> AttachmentRenderer:
        _renderers[name] = fn
        return fn

    return register


def _attachment_json(item: Attachment | AttachmentSpec) -> dict[str, Any]:
    if isinstance(item, AttachmentSpec):
        return {"renderer": item.renderer, "args": dict(item.args)}
    return {
        "filename": item.filename,
        "mimetype": item.mimetype,
        "content_b64": base64.b64encode(item.content).decode("ascii"),
    }


def _attachment_render(spec: dict[str, Any]) -> Attachment | None:
    if "renderer" in spec:
        renderer = _renderers.get(spec["renderer"])
        if renderer is None:
            raise OutboxError(RENDERER_UNKNOWN.format(name=spec["renderer"]), field="attachments")
        return renderer(**spec.get("args", {}))
    return Attachment(
        filename=spec["filename"],
        content=base64.b64decode(spec["content_b64"]),
        mimetype=spec.get("mimetype", "application/octet-stream"),
    )


# --- outcome listeners ------------------------------------------------------------------------

OutcomeListener = Callable[[OutboxMessage, datetime], None]
_sent: dict[str, Listeners[OutcomeListener]] = {}
_dead: dict[str, Listeners[OutcomeListener]] = {}


def register_sent_listener(kind: str, fn: OutcomeListener) -> OutcomeListener:
    """Call ``fn(message, now)`` when a message of ``kind`` is recorded SENT (once per message,
    in the transaction that records it)."""
    return _sent.setdefault(kind, Listeners()).register(fn)


def register_dead_listener(kind: str, fn: OutcomeListener) -> OutcomeListener:
    """Call ``fn(message, now)`` when a message of ``kind`` is given up on (DEAD)."""
    return _dead.setdefault(kind, Listeners()).register(fn)


def _notify(registry: dict[str, Listeners[OutcomeListener]], row: OutboxMessage, now: datetime):
    for fn in registry.get(row.kind, ()):
        fn(row, now)


# --- keys and Message-IDs ---------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def message_id_domain() -> str:
    configured = getattr(settings, "OUTBOX_MESSAGE_ID_DOMAIN", "")
    if configured:
        return str(configured)
    host = urlparse(getattr(settings, "SITE_URL", "") or "").hostname
    return host or DEFAULT_MESSAGE_ID_DOMAIN


def message_id_for(key: str) -> str:
    """The Message-ID of the message with ``key``: the same on every send of that key, so a
    resend after a crash is recognisable as the same message. The readable part keeps the key's
    safe characters; the hash keeps two keys that differ only in unsafe ones apart."""
    readable = _UNSAFE.sub(".", key).strip(".")[:120] or "message"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"<{readable}.{digest}@{message_id_domain()}>"


def stale_after() -> timedelta:
    return timedelta(minutes=getattr(settings, "OUTBOX_STALE_MINUTES", DEFAULT_STALE_MINUTES))


def backoff(attempts: int) -> timedelta:
    """Wait after failed attempt number ``attempts``: 2, 4, 8, 16, 32 minutes (at most 4 h)."""
    return timedelta(minutes=min(2 ** max(attempts, 1), 240))


# --- enqueue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewMessage:
    """One message to enqueue (the arguments of ``enqueue``, for ``enqueue_many``)."""

    key: str
    kind: str
    to: Sequence[str]
    subject: str
    body: str
    html: str = ""
    attachments: Sequence[Attachment | AttachmentSpec] = ()
    related: models.Model | None = None
    from_email: str = ""


def _row(message: NewMessage, now: datetime) -> OutboxMessage:
    if not message.key:
        raise OutboxError(KEY_REQUIRED, field="key")
    if len(message.key) > 200:
        raise OutboxError(KEY_TOO_LONG.format(length=len(message.key)), field="key")
    to = [address.strip() for address in message.to if address and address.strip()]
    related = message.related
    return OutboxMessage(
        key=message.key,
        kind=message.kind,
        to=to,
        from_email=message.from_email,
        subject=message.subject[:250],
        body=message.body,
        html=message.html,
        attachments=[_attachment_json(a) for a in message.attachments],
        message_id=message_id_for(message.key),
        related_type=related._meta.label_lower if related is not None else "",
        related_id=related.pk if related is not None else None,
        # No address: nothing can ever send it; kept (DEAD) so the page shows what did not go.
        status=OutboxStatus.PENDING if to else OutboxStatus.DEAD,
        last_error="" if to else NO_RECIPIENT,
        next_attempt_at=now,
        created_at=now,
    )


def enqueue(
    *,
    key: str,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    now: datetime,
    html: str = "",
    attachments: Sequence[Attachment | AttachmentSpec] = (),
    related: models.Model | None = None,
    from_email: str = "",
    dispatch: bool = True,
) -> OutboxMessage:
    """Write one message in the caller's transaction; after it commits, a huey task sends it
    (``dispatch``). Idempotent per ``key``: an existing row is returned unchanged and nothing
    more is sent. A message without any address is stored DEAD (the page shows it).
    Raises OutboxError for a missing or over-long key."""
    message = NewMessage(
        key=key,
        kind=kind,
        to=to,
        subject=subject,
        body=body,
        html=html,
        attachments=attachments,
        related=related,
        from_email=from_email,
    )
    row = _row(message, now)
    existing = OutboxMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        # A savepoint: a concurrent insert of the same key fails here without spoiling the
        # caller's transaction; that row is the message.
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return OutboxMessage.objects.get(key=key)
    if row.status == OutboxStatus.DEAD:
        _notify(_dead, row, now)
    elif dispatch:
        dispatch_on_commit([row.pk])
    return row


def enqueue_many(
    messages: Sequence[NewMessage], *, now: datetime, dispatch: bool = True
) -> dict[str, int]:
    """``enqueue`` for many messages with one INSERT; returns {key: message id} for every key
    (new or already there). With ``dispatch`` one huey task sends the new ones after commit."""
    if not messages:
        return {}
    rows = [_row(m, now) for m in messages]
    keys = [r.key for r in rows]
    before = set(_ids_by_key(keys))
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    ids = _ids_by_key(keys)
    new = [r for r in rows if r.key not in before]
    dead = {r.key for r in new if r.status == OutboxStatus.DEAD}
    if dead:
        for row in OutboxMessage.objects.filter(pk__in=[ids[k] for k in dead]).order_by("id"):
            _notify(_dead, row, now)
    if dispatch:
        dispatch_on_commit([ids[r.key] for r in new if r.key not in dead])
    return ids


def _ids_by_key(keys: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        out.update(
            OutboxMessage.objects.filter(key__in=keys[start : start + 500]).values_list("key", "id")
        )
    return out


def dispatch_on_commit(ids: list[int]) -> None:
    """After the current transaction commits, hand ``ids`` to the huey send task. If the queue
    is unreachable the rows stay PENDING and the periodic job sends them."""
    if not ids:
        return
    ids = list(ids)

    def enqueue_task() -> None:
        from caseledger.core.tasks import outbox_send_task

        try:
            outbox_send_task(ids)
        except Exception:  # the rows are committed; the periodic job picks them up
            log.exception("outbox: could not hand messages %s to the queue", ids[:10])

    transaction.on_commit(enqueue_task)


# --- sending ----------------------------------------------------------------------------------


def _email(row: OutboxMessage, connection: Any) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        from_email=row.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(row.to),
        headers={"Message-ID": row.message_id},
        connection=connection,
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    for spec in row.attachments:
        attachment = _attachment_render(spec)
        if attachment is not None:
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message


def _permanent(exc: Exception) -> bool:
    """Every recipient refused with a 5xx code: retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return False


def _claim(message_id: int, now: datetime) -> str | None:
    token = uuid.uuid4().hex
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status__in=_DUE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=OutboxStatus.SENDING,
        attempts=F("attempts") + 1,
        claimed_at=now,
        claim_token=token,
    )
    return token if claimed else None


def message_send(*, message_id: int, now: datetime, connection: Any = None) -> bool:
    """Send one message if it is due and nobody holds it: claim, send, record. True when this
    call sent it. Call outside any transaction: the claim must commit before the send so that
    other senders see it. Transport errors are recorded on the row (FAILED, or DEAD after the
    last attempt), never raised."""
    token = _claim(message_id, now)
    if token is None:
        return False
    row = OutboxMessage.objects.get(pk=message_id)
    try:
        email = _email(row, connection)
        if connection is not None:
            connection.open()  # a no-op on an open connection; reopens one a failure closed
        email.send(fail_silently=False)
    except Exception as exc:  # any transport or rendering failure is recorded and retried
        log.warning("outbox: %s failed: %s", row.key, exc)
        _record_failure(row=row, token=token, exc=exc, now=now)
        if connection is not None:
            _close_quietly(connection)
        return False
    _record_sent(row=row, now=now)
    return True


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a broken connection is reopened by the next send
        log.debug("outbox: closing a failed connection failed", exc_info=True)


def _record_sent(*, row: OutboxMessage, now: datetime) -> None:
    with transaction.atomic():
        # Whoever holds the claim now: if the claim was recovered meanwhile, the message did
        # leave, and marking it SENT stops a further resend.
        updated = (
            OutboxMessage.objects.filter(pk=row.pk)
            .exclude(status=OutboxStatus.SENT)
            .update(status=OutboxStatus.SENT, sent_at=now, last_error="", claim_token="")
        )
        if not updated:
            return
        row.status, row.sent_at, row.last_error, row.claim_token = OutboxStatus.SENT, now, "", ""
        audit.record(
            actor=None,
            actor_label="outbox",
            action="outbox.sent",
            at=now,
            obj=row,
            after={"key": row.key, "to": row.to, "attempt": row.attempts},
        )
        _notify(_sent, row, now)


def _record_failure(*, row: OutboxMessage, token: str, exc: Exception, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    gave_up = row.attempts >= MAX_ATTEMPTS or _permanent(exc)
    status = OutboxStatus.DEAD if gave_up else OutboxStatus.FAILED
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=row.pk, status=OutboxStatus.SENDING, claim_token=token
        ).update(
            status=status,
            last_error=error,
            next_attempt_at=now + backoff(row.attempts),
            claim_token="",
        )
        if not updated:
            return
        row.status, row.last_error = status, error
        audit.record(
            actor=None,
            actor_label="outbox",
            action="outbox.gave_up" if gave_up else "outbox.failed",
            at=now,
            obj=row,
            after={"key": row.key, "attempt": row.attempts, "error": error},
        )
        if gave_up:
            _notify(_dead, row, now)


def messages_send(
    *, ids: Iterable[int], now: datetime, clock: Callable[[], datetime] | None = None
) -> int:
    """Send the given messages one at a time (each claimed on its own) over one connection;
    returns how many this call sent. ``clock``, when given, stamps each claim and send with the
    time it happens (a long batch must not look stale); otherwise every one gets ``now``."""
    ids = list(ids)
    if not ids:
        return 0
    connection = get_connection(fail_silently=False)
    sent = 0
    try:
        for message_id in ids:
            at = clock() if clock is not None else now
            sent += message_send(message_id=message_id, now=at, connection=connection)
    finally:
        _close_quietly(connection)
    return sent


def due_ids(*, now: datetime, kind: str | None = None, limit: int | None = BATCH) -> list[int]:
    rows = OutboxMessage.objects.filter(status__in=_DUE_STATUSES, next_attempt_at__lte=now)
    if kind is not None:
        rows = rows.filter(kind=kind)
    ids = rows.order_by("next_attempt_at", "id").values_list("id", flat=True)
    return list(ids[:limit] if limit is not None else ids)


def send_due(
    *,
    now: datetime,
    kind: str | None = None,
    limit: int | None = BATCH,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Send every message that is due (new, or failed and past its backoff); returns how many
    were sent."""
    return messages_send(ids=due_ids(now=now, kind=kind, limit=limit), now=now, clock=clock)


def recover_stale(*, now: datetime, kind: str | None = None) -> int:
    """Put claims older than ``stale_after()`` (their sender died) back to FAILED, due now;
    returns how many. The resend carries the same Message-ID (see the module docstring)."""
    cutoff = now - stale_after()
    rows = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lte=cutoff)
    if kind is not None:
        rows = rows.filter(kind=kind)
    recovered = 0
    for row in rows.order_by("id"):
        note = STALE_NOTE.format(claimed_at=row.claimed_at)
        with transaction.atomic():
            updated = OutboxMessage.objects.filter(
                pk=row.pk, status=OutboxStatus.SENDING, claim_token=row.claim_token
            ).update(
                status=OutboxStatus.FAILED, next_attempt_at=now, claim_token="", last_error=note
            )
            if not updated:
                continue
            recovered += 1
            audit.record(
                actor=None,
                actor_label="outbox",
                action="outbox.claim_recovered",
                at=now,
                obj=row,
                after={"key": row.key, "claimed_at": row.claimed_at.isoformat()}
                if row.claimed_at
                else {"key": row.key},
            )
    return recovered


def outbox_tick(*, now: datetime, clock: Callable[[], datetime] | None = None) -> dict[str, int]:
    """The periodic job: recover stale claims, then send what is due."""
    recovered = recover_stale(now=now)
    sent = send_due(now=now, clock=clock)
    return {"recovered": recovered, "sent": sent}


def message_retry(
    *,
    message: OutboxMessage,
    actor: Any,
    now: datetime,
    capability: str = "outbox.retry",
    obj: models.Model | None = None,
) -> OutboxMessage:
    """A person sends a failed (or given-up) message again now; it leaves after commit. Raises
    PermissionDenied without ``capability`` (an app's page may gate its own messages with its
    own capability on ``obj``, e.g. billing.issue on the invoice), OutboxError for any status
    but failed (a sent message is never resent; an in-flight one is its sender's)."""
    from caseledger.core.permissions import require

    require(actor, capability, obj)
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status__in=list(FAILED_STATUSES)
        ).update(status=OutboxStatus.FAILED, next_attempt_at=now)
        row = OutboxMessage.objects.get(pk=message.pk)
        if not updated:
            raise OutboxError(
                RETRY_REFUSED.format(status=row.get_status_display().lower()), field="message"
            )
        if not row.to:
            raise OutboxError(NO_RECIPIENT, field="to")
        audit.record(
            actor=actor,
            action="outbox.retry_requested",
            at=now,
            obj=row,
            after={"key": row.key, "attempts": row.attempts},
        )
        dispatch_on_commit([row.pk])
    return row
