"""Portal API (/api/v1/portal/...): what a client user sees in the portal, as JSON, for the
client's own token or portal session. Every route requires ``portal.view`` (client users only:
staff get 403 and use the firm's routes) and reads from the matters the caller may open
(``matters_visible_to``: for a client user, the matters of the clients they are a portal user
of), so another client's case, invoice or document is a 404 whatever id is sent.

- ``cases``: each matter with its case type, stage, receipt numbers; one case adds the stage
  timeline, the client-visible deadlines and what the firm needs from the client;
- ``invoices``: issued (and voided) invoices with their state and balance due;
- ``trust``: the trust balance per matter, with what is uncleared;
- ``documents``: the documents the firm shared, each with a signed download link made for the
  caller that expires (``matters.documents``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Id, Limit, Offset
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core import clock
from caseledger.core.permissions import require
from caseledger.matters import documents
from caseledger.matters.choices import CLIENT_DEADLINE_KINDS, TaskStatus
from caseledger.matters.models import Deadline, Matter, MatterDocument, Task
from caseledger.matters.selectors import matter_timeline, matters_visible_to
from caseledger.payments.choices import InvoicePaymentState
from caseledger.payments.selectors import invoice_money
from caseledger.trust import selectors as trust_selectors

router = Router(tags=["portal"])

CAPABILITY = "portal.view"


def _matters(request: HttpRequest) -> QuerySet[Matter]:
    require(request.user, CAPABILITY)
    return (
        matters_visible_to(request.user)
        .select_related("client", "case_type", "current_stage")
        .prefetch_related("receipts")
        .order_by("-opened_date", "id")
    )


class CaseOut(Schema):
    id: int
    number: str
    title: str
    case_type: str
    case_type_name: str
    current_stage: str | None
    current_stage_name: str | None
    status: str
    opened_date: date
    closed_date: date | None
    receipt_numbers: list[str]


class StageOut(Schema):
    stage: str
    name: str
    state: str = Field(description="done, current, passed (not needed) or todo")
    at: datetime | None = Field(description="when the case reached it")


class DeadlineOut(Schema):
    kind: str
    due_date: date
    description: str


class ClientTaskOut(Schema):
    title: str
    description: str
    due_date: date | None


class CaseDetailOut(CaseOut):
    timeline: list[StageOut]
    next_stage: str | None
    deadlines: list[DeadlineOut] = Field(description="open deadlines that concern the client")
    tasks: list[ClientTaskOut] = Field(description="what the firm needs from the client")


def _case_out(matter: Matter) -> dict[str, Any]:
    stage = matter.current_stage
    return {
        "id": matter.pk,
        "number": matter.number,
        "title": matter.title,
        "case_type": matter.case_type.code,
        "case_type_name": matter.case_type.name,
        "current_stage": stage.code if stage is not None else None,
        "current_stage_name": stage.name if stage is not None else None,
        "status": matter.status,
        "opened_date": matter.opened_date,
        "closed_date": matter.closed_date,
        "receipt_numbers": [r.number for r in matter.receipts.all()],
    }


@router.get("/cases", response=Page[CaseOut], operation_id="portal_case_list")
def case_list(request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> dict:
    """The caller's cases, newest first."""
    rows = _matters(request)
    return paginate(
        request, rows, limit=limit, offset=offset, serialize=lambda ms: [_case_out(m) for m in ms]
    )


@router.get("/cases/{case_id}", response=CaseDetailOut, operation_id="portal_case_read")
def case_read(request: HttpRequest, case_id: Id) -> dict:
    """One case: the stage timeline, the next stage, deadlines and what the firm needs."""
    matter = get_object_or_404(_matters(request), pk=case_id)
    timeline = matter_timeline(matter)
    states = [row["state"] for row in timeline]
    after_current = states.index("current") + 1 if "current" in states else len(states)
    upcoming = [row for row in timeline[after_current:] if row["state"] == "todo"]
    deadlines = Deadline.objects.filter(
        matter=matter, kind__in=CLIENT_DEADLINE_KINDS, met_at__isnull=True
    ).order_by("due_date", "id")
    tasks = Task.objects.filter(
        matter=matter, assignee_role="CLIENT", status=TaskStatus.OPEN
    ).order_by("due_date", "id")
    return {
        **_case_out(matter),
        "timeline": [
            {
                "stage": row["stage"].code,
                "name": row["stage"].name,
                "state": row["state"],
                "at": row["event"].at if row["event"] is not None else None,
            }
            for row in timeline
        ],
        "next_stage": upcoming[0]["stage"].code if upcoming else None,
        "deadlines": [
            {"kind": d.kind, "due_date": d.due_date, "description": d.description}
            for d in deadlines
        ],
        "tasks": [
            {"title": t.title, "description": t.description, "due_date": t.due_date} for t in tasks
        ],
    }


class PortalInvoiceOut(Schema):
    id: int
    number: str | None
    status: str = Field(description="ISSUED or VOID (drafts are never shown)")
    case_id: int
    case_number: str
    issue_date: date | None
    due_date: date | None
    total_cents: int
    payment_state: InvoicePaymentState
    paid_cents: int
    credited_cents: int
    balance_due_cents: int


def _invoices(request: HttpRequest) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(matter__in=_matters(request))
        .filter(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID])
        .select_related("matter")
        .order_by("-issue_date", "-id")
    )


def _invoices_out(invoices: list[Invoice]) -> list[dict[str, Any]]:
    money = invoice_money(invoices, as_of=clock.firm_today())
    return [
        {
            "id": inv.pk,
            "number": inv.number,
            "status": inv.status,
            "case_id": inv.matter_id,
            "case_number": inv.matter.number,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "total_cents": inv.total_cents,
            "payment_state": money[inv.pk].state,
            "paid_cents": money[inv.pk].paid_cents,
            "credited_cents": money[inv.pk].credited_cents,
            "balance_due_cents": money[inv.pk].balance_due_cents,
        }
        for inv in invoices
    ]


@router.get("/invoices", response=Page[PortalInvoiceOut], operation_id="portal_invoice_list")
def invoice_list(request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> dict:
    """The caller's issued invoices, newest first, with their state and balance due."""
    return paginate(
        request, _invoices(request), limit=limit, offset=offset, serialize=_invoices_out
    )


@router.get("/invoices/{invoice_id}", response=PortalInvoiceOut, operation_id="portal_invoice_read")
def invoice_read(request: HttpRequest, invoice_id: Id) -> dict:
    return _invoices_out([get_object_or_404(_invoices(request), pk=invoice_id)])[0]


class PortalTrustOut(Schema):
    case_id: int
    case_number: str
    balance_cents: int = Field(description="held in trust for the case")
    uncleared_cents: int = Field(description="of the balance, deposits not cleared yet")
    available_cents: int = Field(description="of the balance, what can be applied now")


@router.get("/trust", response=Page[PortalTrustOut], operation_id="portal_trust_list")
def trust_list(request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> dict:
    """The trust balance of each of the caller's cases that holds or held trust money."""
    rows = [
        {
            "case_id": p.matter.pk,
            "case_number": p.matter.number,
            "balance_cents": p.balance_cents,
            "uncleared_cents": p.uncleared_cents,
            "available_cents": p.available_cents,
        }
        for p in trust_selectors.trust_dashboard(clock.firm_today(), _matters(request))
    ]
    return paginate(request, rows, limit=limit, offset=offset, serialize=list)


class PortalDocumentOut(Schema):
    id: int
    case_id: int
    case_number: str
    title: str
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    shared_at: datetime
    download_url: str = Field(
        description="signed link to the file in the portal, for the caller's signed-in portal "
        "session only; it expires at link_expires_at"
    )
    link_expires_at: datetime


@router.get("/documents", response=Page[PortalDocumentOut], operation_id="portal_document_list")
def document_list(
    request: HttpRequest,
    case_id: Id | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict:
    """The documents the firm shared on the caller's cases (one case with ``case_id``), newest
    first."""
    matters = _matters(request)
    if case_id is not None:
        matters = matters.filter(pk=case_id)
    now = clock.now()
    expires = now + timedelta(minutes=documents.DOCUMENT_LINK_MINUTES)

    def serialize(page: list[MatterDocument]) -> list[dict[str, Any]]:
        return [
            {
                "id": d.pk,
                "case_id": d.matter_id,
                "case_number": d.matter.number,
                "title": d.title,
                "kind": d.kind,
                "filename": d.filename,
                "content_type": d.content_type,
                "size_bytes": d.size_bytes,
                "shared_at": d.shared_at,
                "download_url": request.build_absolute_uri(
                    reverse(
                        "portal:document_download",
                        args=[documents.document_token(document=d, user=request.user, at=now)],
                    )
                ),
                "link_expires_at": expires,
            }
            for d in page
        ]

    rows = documents.shared_documents(matters)
    return paginate(request, rows, limit=limit, offset=offset, serialize=serialize)
