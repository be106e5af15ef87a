"""Trust requests (asking a client to fund trust)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.models import User
from caseledger.matters.models import Matter
from caseledger.trust import locks
from caseledger.trust.choices import (
    TrustRequestKind,
    TrustRequestStatus,
)
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    TrustRequest,
)
from caseledger.trust.services.common import (
    DUE_BEFORE_ISSUE,
    KIND_INVALID,
    REQUEST_CANNOT_CANCEL,
    _check_amount,
    _check_matter,
    _next_number,
)
from caseledger.trust.services.notices import (
    NOTICE_REQUEST_KIND,
    _client_email,
    _notice_queue,
    _request_notice,
)


def trust_request_create(
    *,
    client: Client,
    matter: Matter,
    kind: str,
    amount_cents: int,
    due_date: date,
    actor: User | None,
    now: datetime,
    memo: str = "",
    send: bool = True,
) -> TrustRequest:
    """A retainer or replenishment request with its own number and payment link; emailed to
    the client (outbox) when ``send``."""
    from caseledger.payments.links import trust_request_pay_url

    _check_matter(client, matter)
    _check_amount(amount_cents)
    if kind not in TrustRequestKind.values:
        raise TrustError(
            KIND_INVALID.format(choices=", ".join(TrustRequestKind.values), value=kind),
            field="kind",
        )
    clock.date_check(due_date, field="due_date")
    issue = clock.firm_date(now)
    if due_date < issue:
        raise TrustError(DUE_BEFORE_ISSUE.format(issue=issue, due=due_date), field="due_date")
    with transaction.atomic():
        locks.lock_matter_trust(matter, now)
        request = TrustRequest.objects.create(
            number=_next_number("trust_request", "TR"),
            client=client,
            matter=matter,
            kind=kind,
            amount_cents=amount_cents,
            issue_date=issue,
            due_date=due_date,
            memo=memo,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="trust.request_created",
            at=now,
            obj=request,
            after={"kind": kind, "amount_cents": amount_cents, "matter": matter.number},
            actor_label=None if actor else "system:low-trust",
        )
        if send:
            _notice_queue(
                key=f"trust.request:{request.pk}",
                kind=NOTICE_REQUEST_KIND,
                related=request,
                to_email=_client_email(client),
                **_request_notice(request, pay_url=trust_request_pay_url(request.pk)),
                now=now,
            )
    return request


def trust_request_cancel(*, request: TrustRequest, actor: User, now: datetime) -> TrustRequest:
    with transaction.atomic():
        request = locks.lock_trust_request(request.pk)
        if request.status != TrustRequestStatus.OPEN:
            raise TrustError(
                REQUEST_CANNOT_CANCEL.format(
                    request=request, status=request.get_status_display().lower()
                ),
                field="trust_request",
            )
        request.status = TrustRequestStatus.CANCELLED
        request.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="trust.request_cancelled",
            at=now,
            obj=request,
            before={"status": TrustRequestStatus.OPEN},
            after={"status": request.status},
        )
    return request
