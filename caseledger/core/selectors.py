"""Reads for the core app: the firm, users, two-factor state, API tokens, the audit log and the
outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.core.choices import OutboxStatus, Role
from caseledger.core.context import memoized, request_memo
from caseledger.core.models import ApiToken, AuditEvent, Firm, OutboxMessage, User


def firm_get() -> Firm:
    """The firm row (created by migration 0002; get_or_create keeps a fresh test DB working),
    read once per reading request (``core.context.memoized``): a page asks for it from the
    two-factor check, the menu, the money formatting and its own panels."""
    return memoized(FIRM_KEY, _firm_row)


FIRM_KEY = "core.firm"


def firm_if_read() -> Firm | None:
    """The firm row when this reading request has read it already (``firm_get``), else None:
    for a read of a field or two that would otherwise ask for the row again."""
    memo = request_memo.get()
    return None if memo is None else memo.get(FIRM_KEY)


def _firm_row() -> Firm:
    firm, _ = Firm.objects.get_or_create(id=1)
    return firm


def user_list(*, include_inactive: bool = True) -> QuerySet[User]:
    qs = User.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("last_name", "first_name", "username", "id")


def user_counts_by_role() -> list[tuple[str, str, int]]:
    """(role value, role label, active users) for every role, in the roles' declared order."""
    counts = dict(
        User.objects.filter(is_active=True)
        .values("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    return [(role.value, str(role.label), counts.get(role.value, 0)) for role in Role]


def totp_device_confirmed(user: Any) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if two-factor is on for them."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
        if user.pk
        else None
    )


def totp_device_pending(user: Any) -> TOTPDevice | None:
    """The device created when enrolment started and not yet confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def two_factor_required(user: Any, firm: Firm | None = None) -> bool:
    """True when the firm enforces two-factor for this user's role."""
    firm = firm or firm_get()
    return bool(firm.two_factor_enforced and str(user.role) in set(firm.two_factor_roles))


def two_factor_needed_at_login(user: Any) -> bool:
    """A code is asked at login from users with a device and from users the firm requires."""
    return totp_device_confirmed(user) is not None or two_factor_required(user)


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Events newest first. ``action`` matches a prefix ("firm." finds every firm event);
    dates are inclusive days in the server's time zone."""
    qs = AuditEvent.objects.select_related("actor")
    if filters.actor_id:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return qs.order_by("-at", "-id")


def audit_object_types() -> list[str]:
    """The object types the log holds (not empty), in order, for the filter's drop-down. Events
    name whatever model ``audit.record`` was given, so the set is read, not listed in code: a
    loose index scan (a recursive CTE) of the ``(object_type, object_id)`` index, one probe
    per type (a few dozen), not a DISTINCT over every event (2M events: 408 ms -> about 1 ms
    on PostgreSQL; SQLite walks its index the same way)."""
    from django.db import connection

    table = AuditEvent._meta.db_table
    sql = (
        f"WITH RECURSIVE t(v) AS (SELECT MIN(object_type) FROM {table} WHERE object_type > '' "
        f"UNION ALL SELECT (SELECT MIN(e.object_type) FROM {table} e WHERE e.object_type > t.v) "
        "FROM t WHERE t.v IS NOT NULL) SELECT v FROM t WHERE v IS NOT NULL ORDER BY v"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def audit_recent(*, limit: int = 8) -> list[AuditEvent]:
    return list(AuditEvent.objects.select_related("actor").order_by("-at", "-id")[:limit])


# --- outbox -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFilters:
    status: str = ""
    kind: str = ""
    search: str = ""  # part of the key, an address or the subject


def outbox_message_list(*, filters: OutboxFilters) -> QuerySet[OutboxMessage]:
    """Messages, newest first, without their bodies (a reset link is no one's business)."""
    rows = OutboxMessage.objects.defer("body", "html", "attachments")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.search:
        term = filters.search
        rows = rows.filter(
            Q(key__icontains=term) | Q(subject__icontains=term) | Q(to__icontains=term)
        )
    return rows.order_by("-created_at", "-id")


def outbox_kinds() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("kind", flat=True).distinct().order_by())


def outbox_status_counts() -> dict[str, int]:
    counts = dict(
        OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    return {status: counts.get(status, 0) for status in OutboxStatus.values}


def outbox_messages_for(*, obj: Any) -> QuerySet[OutboxMessage]:
    """The messages enqueued about one business record (``related=obj``), oldest first."""
    return OutboxMessage.objects.filter(
        related_type=obj._meta.label_lower, related_id=obj.pk
    ).order_by("created_at", "id")
